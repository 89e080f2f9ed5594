#include "client/client.h"

#include <random>
#include <vector>

#include "core/error.h"
#include "protocol/encode.h"
#include "protocol/parse.h"

namespace gossamer::client {
namespace {

using Clock = std::chrono::steady_clock;

// Replies about `id`: its own messages, and non-terminal errors that point at it (`ref`),
// e.g. a refused health request.
bool concerns(const protocol::ServerMessage& m, const std::string& id) {
  if (protocol::request_id_of(m) == id) return true;
  const auto* e = std::get_if<protocol::ErrorReply>(&m);
  return e != nullptr && e->ref == id;
}

}  // namespace

std::string random_id_prefix(const char* lead) {
  std::random_device rd;
  const uint64_t r = (uint64_t{rd()} << 32) ^ rd();
  static const char* hex = "0123456789abcdef";
  std::string s = lead;
  for (int i = 0; i < 8; ++i) s += hex[(r >> (4 * i)) & 0xF];
  return s + "-";
}

Client::Client(std::string endpoint, ClientOptions options)
    : Client(std::move(endpoint), std::make_shared<zmq::context_t>(1), options) {}

Client::Client(std::string endpoint, std::shared_ptr<zmq::context_t> context, ClientOptions options)
    : endpoint_(std::move(endpoint)),
      options_(options),
      context_(std::move(context)),
      socket_(*context_, zmq::socket_type::dealer),
      id_prefix_(random_id_prefix("c")) {
  socket_.set(zmq::sockopt::linger, static_cast<int>(options_.linger.count()));
  socket_.set(zmq::sockopt::sndtimeo, static_cast<int>(options_.send_timeout.count()));
  socket_.set(zmq::sockopt::heartbeat_ivl, static_cast<int>(options_.heartbeat_ivl.count()));
  socket_.set(zmq::sockopt::heartbeat_timeout, static_cast<int>(options_.heartbeat_ivl.count() * 3));
  // The transport refuses oversized frames before they reach us (+ slack for the envelope).
  socket_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options_.max_frame_bytes + 4096));
  if (!options_.curve_server_public.empty() || !options_.curve_public.empty() || !options_.curve_secret.empty()) {
    if (options_.curve_server_public.size() != 40 || options_.curve_public.size() != 40 || options_.curve_secret.size() != 40)
      GOSSAMER_THROW(kInvalidArgument, "CURVE needs the server's public key and a client key pair (40 Z85 characters each)");
    socket_.set(zmq::sockopt::curve_serverkey, options_.curve_server_public);
    socket_.set(zmq::sockopt::curve_publickey, options_.curve_public);
    socket_.set(zmq::sockopt::curve_secretkey, options_.curve_secret);
  }
  try {
    socket_.connect(endpoint_);
  } catch (const zmq::error_t& e) {
    GOSSAMER_THROW(kInvalidArgument, "cannot connect to '{}': {}", endpoint_, e.what());
  }
}

std::string Client::new_id() { return id_prefix_ + std::to_string(next_id_++); }

void Client::send_raw(std::string_view frame) {
  zmq::send_result_t sent;
  try {
    sent = socket_.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::none);
  } catch (const zmq::error_t& e) {
    GOSSAMER_THROW(kComm, "send to {} failed: {}", endpoint_, e.what());
  }
  if (!sent)
    GOSSAMER_THROW(kComm, "send to {} timed out after {} ms (server unreachable or not reading)",
                   endpoint_, options_.send_timeout.count());
}

std::string Client::submit(protocol::Submit request) {
  if (request.id.empty()) request.id = new_id();
  std::string id = request.id;
  std::string frame;
  try {
    // Strict dump: silently turning a caller's bad bytes into U+FFFD would change the prompt.
    frame = protocol::to_json(protocol::ClientMessage{std::move(request)}).dump();
  } catch (const nlohmann::json::type_error& e) {
    GOSSAMER_THROW(kInvalidArgument, "request '{}' is not valid UTF-8: {}", id, e.what());
  }
  send_raw(frame);
  return id;
}

void Client::cancel(const std::string& id) { send_raw(protocol::encode(protocol::ClientMessage{protocol::Cancel{id}})); }
void Client::send_health(std::optional<std::string> id) {
  send_raw(protocol::encode(protocol::ClientMessage{protocol::HealthRequest{std::move(id)}}));
}
void Client::send_stats(std::optional<std::string> id) {
  send_raw(protocol::encode(protocol::ClientMessage{protocol::StatsRequest{std::move(id)}}));
}

std::optional<protocol::ServerMessage> Client::receive(Millis timeout) {
  zmq::pollitem_t item{socket_.handle(), 0, ZMQ_POLLIN, 0};
  try {
    if (zmq::poll(&item, 1, timeout) == 0) return std::nullopt;
  } catch (const zmq::error_t& e) {
    GOSSAMER_THROW(kComm, "poll on {} failed: {}", endpoint_, e.what());
  }
  zmq::message_t frame;
  if (!socket_.recv(frame, zmq::recv_flags::dontwait)) return std::nullopt;
  // The protocol is one JSON message per frame; drain any extra parts so the next
  // receive starts on a message boundary.
  bool extra = false;
  while (frame.more()) {
    zmq::message_t part;
    if (!socket_.recv(part, zmq::recv_flags::dontwait)) break;
    extra = true;
    if (!part.more()) break;
  }
  if (extra) GOSSAMER_THROW(kCorruptData, "server {} sent a multi-frame message", endpoint_);
  auto parsed = protocol::parse_server_message(frame.to_string_view(), options_.max_frame_bytes + 4096);
  if (!parsed.ok())
    GOSSAMER_THROW(kCorruptData, "bad frame from {} ({}): {}", endpoint_,
                   protocol::error_code_string(parsed.error().code), parsed.error().message);
  return std::move(parsed.value());
}

int Client::wait_any(std::span<Client* const> clients, Millis timeout) {
  for (size_t i = 0; i < clients.size(); ++i)
    if (!clients[i]->kept_.empty()) return static_cast<int>(i);
  std::vector<zmq::pollitem_t> items;
  for (Client* c : clients) items.push_back({c->socket_.handle(), 0, ZMQ_POLLIN, 0});
  try {
    if (zmq::poll(items.data(), items.size(), timeout) == 0) return -1;
  } catch (const zmq::error_t& e) {
    GOSSAMER_THROW(kComm, "poll over {} connections failed: {}", clients.size(), e.what());
  }
  for (size_t i = 0; i < items.size(); ++i)
    if (items[i].revents & ZMQ_POLLIN) return static_cast<int>(i);
  return -1;
}

std::optional<protocol::ServerMessage> Client::poll(Millis timeout) {
  if (!kept_.empty()) {
    protocol::ServerMessage m = std::move(kept_.front());
    kept_.pop_front();
    return m;
  }
  return receive(timeout);
}

std::optional<protocol::ServerMessage> Client::poll_for(const std::string& id, Millis timeout) {
  for (auto it = kept_.begin(); it != kept_.end(); ++it) {
    if (concerns(*it, id)) {
      protocol::ServerMessage m = std::move(*it);
      kept_.erase(it);
      return m;
    }
  }
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() < 0) return std::nullopt;
    std::optional<protocol::ServerMessage> m = receive(left);
    if (!m) return std::nullopt;
    if (concerns(*m, id)) return m;
    kept_.push_back(std::move(*m));
  }
}

template <class Reply>
Reply Client::round_trip(const std::string& id, Millis timeout, const char* what) {
  std::optional<protocol::ServerMessage> m = poll_for(id, timeout);
  if (!m) GOSSAMER_THROW(kComm, "no {} reply from {} within {} ms", what, endpoint_, timeout.count());
  if (auto* r = std::get_if<Reply>(&*m)) return std::move(*r);
  if (auto* e = std::get_if<protocol::ErrorReply>(&*m))
    GOSSAMER_THROW(kComm, "{} refused by {}: {}: {}", what, endpoint_,
                   protocol::error_code_string(e->code), e->message);
  GOSSAMER_THROW(kCorruptData, "unexpected reply to {} from {}", what, endpoint_);
}

protocol::HealthReply Client::health(Millis timeout) {
  const std::string id = new_id();
  send_health(id);
  return round_trip<protocol::HealthReply>(id, timeout, "health");
}

protocol::StatsReply Client::stats(Millis timeout) {
  const std::string id = new_id();
  send_stats(id);
  return round_trip<protocol::StatsReply>(id, timeout, "stats");
}

}  // namespace gossamer::client
