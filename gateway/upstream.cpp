#include "gateway/upstream.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <random>

#include <zmq.hpp>

#include "core/error.h"
#include "core/log.h"
#include "protocol/encode.h"
#include "protocol/limits.h"
#include "protocol/parse.h"

namespace gossamer::gateway {
namespace {

// The socket and its context, made in the constructor (so a bad endpoint fails there)
// and used only by the I/O thread afterwards.
struct Socket {
  zmq::context_t context{1};
  zmq::socket_t socket{context, zmq::socket_type::dealer};
};

std::string random_prefix() {
  std::random_device rd;
  const uint64_t r = (uint64_t{rd()} << 32) ^ rd();
  static const char* hex = "0123456789abcdef";
  std::string s = "gw";
  for (int i = 0; i < 8; ++i) s += hex[(r >> (4 * i)) & 0xF];
  return s + "-";
}

// The id a reply is routed by: the request's id, a health/stats correlation id, or the
// `ref` of an error about a message we sent (a refused health probe).
std::optional<std::string> route_of(const protocol::ServerMessage& m) {
  if (auto id = protocol::request_id_of(m)) return id;
  if (auto* h = std::get_if<protocol::HealthReply>(&m)) return h->id;
  if (auto* s = std::get_if<protocol::StatsReply>(&m)) return s->id;
  if (auto* e = std::get_if<protocol::ErrorReply>(&m)) return e->ref;
  return std::nullopt;
}

bool ends_route(const protocol::ServerMessage& m) {
  return protocol::is_terminal(m) || std::holds_alternative<protocol::HealthReply>(m) ||
         std::holds_alternative<protocol::StatsReply>(m);
}

std::unique_ptr<Socket> make_socket(const UpstreamOptions& o) {
  auto s = std::make_unique<Socket>();
  s->socket.set(zmq::sockopt::linger, 500);
  s->socket.set(zmq::sockopt::sndtimeo, 5000);
  s->socket.set(zmq::sockopt::heartbeat_ivl, 2000);
  s->socket.set(zmq::sockopt::heartbeat_timeout, 6000);
  s->socket.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(protocol::kDefaultMaxFrameBytes + 4096));
  const bool curve = !o.curve_server_public.empty() || !o.curve_public.empty() || !o.curve_secret.empty();
  if (curve) {
    if (o.curve_server_public.size() != 40 || o.curve_public.size() != 40 || o.curve_secret.size() != 40)
      GOSSAMER_THROW(kInvalidArgument, "CURVE needs the server's public key and a client key pair (40 Z85 characters each)");
    s->socket.set(zmq::sockopt::curve_serverkey, o.curve_server_public);
    s->socket.set(zmq::sockopt::curve_publickey, o.curve_public);
    s->socket.set(zmq::sockopt::curve_secretkey, o.curve_secret);
  }
  try {
    s->socket.connect(o.endpoint);
  } catch (const zmq::error_t& e) {
    GOSSAMER_THROW(kInvalidArgument, "cannot connect to '{}': {}", o.endpoint, e.what());
  }
  return s;
}

}  // namespace

Upstream::Upstream(UpstreamOptions options) : options_(std::move(options)), id_prefix_(random_prefix()) {
  std::shared_ptr<Socket> sock = make_socket(options_);
  wake_fd_ = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (wake_fd_ < 0) GOSSAMER_THROW(kIo, "eventfd failed");
  io_ = std::thread([this, sock] {
    // The thread owns the socket from here on.
    zmq::socket_t& s = sock->socket;
    while (!stop_.load()) {
      zmq::pollitem_t items[2] = {{s.handle(), 0, ZMQ_POLLIN, 0}, {nullptr, wake_fd_, ZMQ_POLLIN, 0}};
      try {
        zmq::poll(items, 2, std::chrono::milliseconds(200));
      } catch (const zmq::error_t& e) {
        GLOG_WARN("gateway: poll on {} failed: {}", options_.endpoint, e.what());
        continue;
      }
      if (items[1].revents & ZMQ_POLLIN) {
        uint64_t n;
        [[maybe_unused]] ssize_t r = ::read(wake_fd_, &n, sizeof n);
      }
      std::vector<std::string> out;
      {
        std::lock_guard lock(mu_);
        out.swap(outbox_);
      }
      for (auto& frame : out) {
        try {
          if (!s.send(zmq::buffer(frame.data(), frame.size()), zmq::send_flags::none))
            GLOG_WARN("gateway: send to {} timed out", options_.endpoint);
        } catch (const zmq::error_t& e) {
          GLOG_WARN("gateway: send to {} failed: {}", options_.endpoint, e.what());
        }
      }
      while (true) {
        zmq::message_t frame;
        if (!s.recv(frame, zmq::recv_flags::dontwait)) break;
        if (frame.more()) {  // the protocol is one frame per message: skip the rest
          zmq::message_t part;
          while (s.recv(part, zmq::recv_flags::dontwait) && part.more()) {}
          GLOG_WARN("gateway: {} sent a multi-frame message; dropped", options_.endpoint);
          continue;
        }
        auto parsed = protocol::parse_server_message(frame.to_string_view(), protocol::kDefaultMaxFrameBytes + 4096);
        if (!parsed.ok()) {
          GLOG_WARN("gateway: bad frame from {}: {}", options_.endpoint, parsed.error().message);
          continue;
        }
        dispatch(std::move(parsed.value()));
      }
    }
  });
}

Upstream::~Upstream() {
  stop_.store(true);
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
  if (io_.joinable()) io_.join();
  ::close(wake_fd_);
}

std::string Upstream::new_id() { return id_prefix_ + std::to_string(next_id_.fetch_add(1)); }

void Upstream::send(std::string frame) {
  {
    std::lock_guard lock(mu_);
    outbox_.push_back(std::move(frame));
  }
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t r = ::write(wake_fd_, &one, sizeof one);
}

void Upstream::dispatch(protocol::ServerMessage m) {
  const std::optional<std::string> route = route_of(m);
  if (!route) {
    if (auto* e = std::get_if<protocol::ErrorReply>(&m))
      GLOG_WARN("gateway: error from {} about no request: {}: {}", options_.endpoint,
                protocol::error_code_string(e->code), e->message);
    return;
  }
  std::shared_ptr<RequestChannel> channel;
  {
    std::lock_guard lock(mu_);
    auto it = channels_.find(*route);
    if (it == channels_.end()) return;  // given up on (cancelled, timed out): drop
    channel = it->second;
    if (ends_route(m)) channels_.erase(it);
  }
  channel->push(std::move(m));
}

std::shared_ptr<RequestChannel> Upstream::submit(const std::string& id, std::string frame) {
  auto channel = std::make_shared<RequestChannel>();
  {
    std::lock_guard lock(mu_);
    channels_[id] = channel;
  }
  send(std::move(frame));
  return channel;
}

void Upstream::cancel(const std::string& id) {
  forget(id);
  send(protocol::encode(protocol::ClientMessage{protocol::Cancel{id}}));
}

void Upstream::forget(const std::string& id) {
  std::lock_guard lock(mu_);
  channels_.erase(id);
}

template <class Reply>
std::optional<Reply> Upstream::probe(bool health, std::chrono::milliseconds timeout) {
  const std::string id = new_id();
  auto channel = std::make_shared<RequestChannel>();
  {
    std::lock_guard lock(mu_);
    channels_[id] = channel;
  }
  send(health ? protocol::encode(protocol::ClientMessage{protocol::HealthRequest{id}})
              : protocol::encode(protocol::ClientMessage{protocol::StatsRequest{id}}));
  std::optional<protocol::ServerMessage> m = channel->pop(timeout);
  forget(id);
  if (!m) return std::nullopt;
  if (auto* r = std::get_if<Reply>(&*m)) return std::move(*r);
  return std::nullopt;
}

std::optional<protocol::HealthReply> Upstream::health(std::chrono::milliseconds timeout) {
  return probe<protocol::HealthReply>(true, timeout);
}
std::optional<protocol::StatsReply> Upstream::stats(std::chrono::milliseconds timeout) {
  return probe<protocol::StatsReply>(false, timeout);
}

}  // namespace gossamer::gateway
