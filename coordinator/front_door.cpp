#include "coordinator/front_door.h"

#include <random>

#include "coordinator/request_builder.h"
#include "core/error.h"
#include "core/log.h"
#include "protocol/encode.h"
#include "protocol/inflight_ids.h"
#include "protocol/parse.h"

namespace gossamer::coordinator {
namespace {

constexpr const char* kOutboxEndpoint = "inproc://gossamer-outbox";
// Outbox frame kinds: a reply that ends a request, any other reply, end of replies.
constexpr char kTerminal = 'T', kReply = 'R', kClosed = 'X';

zmq::message_t msg(const std::string& s) { return zmq::message_t(s.data(), s.size()); }

}  // namespace

// ---- Outbox (step thread) -------------------------------------------------------------

Outbox::Outbox(zmq::context_t& ctx) : push_(ctx, zmq::socket_type::push) {
  push_.set(zmq::sockopt::sndhwm, 0);  // never blocks the step thread; memory is the bound
  push_.set(zmq::sockopt::linger, 0);
  push_.connect(kOutboxEndpoint);
}

void Outbox::send(const std::string& connection, const protocol::ServerMessage& m) {
  if (closed_) return;
  // Only replies about a request carry its id here; health/stats correlation ids and
  // `ref` errors are not request ids.
  const bool about_request = std::holds_alternative<protocol::Accepted>(m) ||
                             std::holds_alternative<protocol::Delta>(m) || protocol::is_terminal(m);
  const auto id = about_request ? protocol::request_id_of(m).value_or("") : std::string();
  const char kind = protocol::is_terminal(m) ? kTerminal : kReply;
  push_.send(msg(connection), zmq::send_flags::sndmore);
  push_.send(msg(id), zmq::send_flags::sndmore);
  push_.send(zmq::message_t(&kind, 1), zmq::send_flags::sndmore);
  push_.send(msg(protocol::encode(m)), zmq::send_flags::none);
}

void Outbox::close() {
  if (closed_) return;
  closed_ = true;
  const char kind = kClosed;
  push_.send(zmq::message_t(), zmq::send_flags::sndmore);
  push_.send(zmq::message_t(), zmq::send_flags::sndmore);
  push_.send(zmq::message_t(&kind, 1), zmq::send_flags::sndmore);
  push_.send(zmq::message_t(), zmq::send_flags::none);
}

// ---- FrontDoor --------------------------------------------------------------------------

FrontDoor::FrontDoor(const FrontDoorOptions& options, const Tokenizer& tokenizer, Inbox& inbox,
                     const StatsBoard* stats)
    : options_(options),
      tokenizer_(tokenizer),
      inbox_(inbox),
      stats_(stats),
      context_(1),
      router_(context_, zmq::socket_type::router),
      pull_(context_, zmq::socket_type::pull) {
  // Frames up to 4x the limit are read and answered `too_large`; beyond that libzmq drops
  // the connection (PROTOCOL.md, Limits).
  router_.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(options.limits.max_frame_bytes * 4));
  router_.set(zmq::sockopt::router_mandatory, 1);  // sends to a gone peer fail: EHOSTUNREACH
  router_.set(zmq::sockopt::sndhwm, options.send_hwm);
  router_.set(zmq::sockopt::rcvhwm, 100000);
  router_.set(zmq::sockopt::linger, 2000);  // flush the last replies before the job ends
  const int hb = static_cast<int>(options.heartbeat_s * 1000);
  if (hb > 0) {
    router_.set(zmq::sockopt::heartbeat_ivl, hb);
    router_.set(zmq::sockopt::heartbeat_timeout, hb * 3);
  }
  pull_.set(zmq::sockopt::linger, 0);
  pull_.bind(kOutboxEndpoint);
  if (!options.curve_secret_key.empty()) {
    // The ZAP handler must be bound before the socket can see a handshake.
    zap_ = std::make_unique<ZapAuthenticator>(context_, options.curve_allowed_clients);
    router_.set(zmq::sockopt::curve_server, 1);
    router_.set(zmq::sockopt::curve_secretkey, options.curve_secret_key);
    router_.set(zmq::sockopt::zap_domain, "gossamer");
  }
  try {
    router_.bind(options.endpoint);
  } catch (const zmq::error_t& e) {
    GOSSAMER_THROW(kIo, "cannot bind the front door to {}: {}", options.endpoint, e.what());
  }
  bound_endpoint_ = router_.get(zmq::sockopt::last_endpoint);
  started_ = std::chrono::steady_clock::now();
}

FrontDoor::~FrontDoor() {
  request_stop(std::chrono::milliseconds(0));
  join();
}

void FrontDoor::start() { thread_ = std::thread([this] { loop(); }); }

void FrontDoor::request_stop(std::chrono::milliseconds flush_deadline) {
  flush_deadline_ms_ = flush_deadline.count();
  stopping_ = true;
}

void FrontDoor::join() {
  if (thread_.joinable()) thread_.join();
}

bool FrontDoor::send_to(const std::string& connection, const std::string& payload) {
  try {
    auto a = router_.send(msg(connection), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
    if (!a) return false;
    auto b = router_.send(msg(payload), zmq::send_flags::dontwait);
    return b.has_value();
  } catch (const zmq::error_t& e) {
    if (e.num() != EHOSTUNREACH) GLOG_WARN("front door: send failed: {}", e.what());
    return false;
  }
}

void FrontDoor::connection_gone(const std::string& connection) {
  live_.erase(connection);
  auto ids = inflight_.drop_connection(connection);
  if (ids.empty()) return;
  GLOG_INFO("front door: a client went away; cancelling its {} request(s)", ids.size());
  inbox_.push(ConnectionGone{connection, std::move(ids)});
}

void FrontDoor::send_error(const std::string& connection, const protocol::ErrorReply& e) {
  send_to(connection, protocol::encode(protocol::ServerMessage(e)));
}

void FrontDoor::on_submit(const std::string& connection, protocol::Submit& s) {
  if (auto dup = inflight_.begin(connection, s.id)) {
    ++rejected_;
    send_error(connection, inflight_.error_reply(connection, *dup));
    return;
  }
  // The id is registered by now, so finish it *before* building the reply: error_reply
  // moves an id that is still in flight to `ref` (not terminal), and the client would wait
  // for an end that never comes.
  auto refuse = [&](protocol::Error e) {
    ++rejected_;
    inflight_.finish(connection, s.id);
    send_error(connection, inflight_.error_reply(connection, e));
  };
  if (stopping_) {
    refuse({protocol::ErrorCode::kShuttingDown, "the server is shutting down", s.id, "submit"});
    return;
  }
  if (static_cast<int64_t>(inflight_.count(connection)) > options_.max_inflight_per_connection) {
    refuse({protocol::ErrorCode::kOverloaded,
            "this connection already has " + std::to_string(options_.max_inflight_per_connection) +
                " requests in flight (server.max_inflight_per_connection); retry when some have finished",
            s.id, "submit"});
    return;
  }
  BuildLimits limits;
  limits.limits = options_.limits;
  limits.default_max_tokens = options_.default_max_tokens;
  limits.model_vocab = options_.model_vocab;
  auto built = build_request(connection, s, tokenizer_, limits, rng_);
  if (!built.ok()) {
    refuse(built.error());
    return;
  }
  ++live_[connection];
  inbox_.push(NewRequest{std::move(built.value())});
}

void FrontDoor::on_frame(const std::string& connection, const std::string& payload, size_t parts) {
  if (parts != 2) {
    ++rejected_;
    send_error(connection, protocol::ErrorReply{protocol::ErrorCode::kBadRequest,
                                                "a message must be exactly one frame (got " +
                                                    std::to_string(parts - 1) + ")",
                                                std::nullopt, std::nullopt});
    return;
  }
  auto parsed = protocol::parse_client_message(payload, options_.limits);
  if (!parsed.ok()) {
    ++rejected_;
    send_error(connection, inflight_.error_reply(connection, parsed.error()));
    return;
  }
  auto& m = parsed.value();
  if (auto* s = std::get_if<protocol::Submit>(&m)) {
    on_submit(connection, *s);
  } else if (auto* c = std::get_if<protocol::Cancel>(&m)) {
    if (auto e = inflight_.check_cancel(connection, c->id)) {
      send_error(connection, inflight_.error_reply(connection, *e));
      return;
    }
    inbox_.push(CancelRequest{connection, c->id});
  } else if (auto* h = std::get_if<protocol::HealthRequest>(&m)) {
    protocol::HealthReply r;
    r.id = h->id;
    r.status = stopping_ ? "shutting_down" : "ok";
    r.world_size = options_.world_size;
    r.uptime_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    r.model = options_.model_name;
    send_to(connection, protocol::encode(protocol::ServerMessage(r)));
  } else if (auto* st = std::get_if<protocol::StatsRequest>(&m)) {
    // During a step: the snapshot taken as it began, now (a step can run for seconds).
    if (auto snapshot = stats_ ? stats_->during_step() : std::nullopt) {
      snapshot->id = st->id;
      snapshot->rejected += rejected_.load();
      send_to(connection, protocol::encode(protocol::ServerMessage(*snapshot)));
      return;
    }
    inbox_.push(StatsQuery{connection, st->id});
  }
}

void FrontDoor::on_outbound(std::vector<zmq::message_t>& parts) {
  if (parts.size() != 4) return;
  const std::string connection = parts[0].to_string(), id = parts[1].to_string();
  const char kind = parts[2].size() == 1 ? *static_cast<const char*>(parts[2].data()) : 0;
  if (kind == kClosed) {
    outbox_closed_ = true;
    return;
  }
  if (kind == kTerminal) {
    // False: the connection went away (its requests were cancelled) — nothing to send.
    if (!inflight_.finish(connection, id)) return;
    if (auto it = live_.find(connection); it != live_.end() && --it->second <= 0) live_.erase(it);
  } else if (!id.empty() && !inflight_.contains(connection, id)) {
    return;  // a delta for a request of a connection that is gone
  }
  if (!send_to(connection, parts[3].to_string())) connection_gone(connection);
}

void FrontDoor::drain_outbox() {
  for (;;) {
    std::vector<zmq::message_t> parts;
    auto got = zmq::recv_multipart(pull_, std::back_inserter(parts), zmq::recv_flags::dontwait);
    if (!got) return;
    on_outbound(parts);
  }
}

void FrontDoor::fail_everything_in_flight() {
  size_t n = 0;
  for (const auto& [connection, count] : live_) {
    for (const auto& id : inflight_.drop_connection(connection)) {
      protocol::ErrorReply e;
      e.code = protocol::ErrorCode::kRankFailure;
      e.message = "the job is being terminated while a step is still running: a rank failed or stopped answering";
      e.id = id;
      send_error(connection, e);
      ++n;
    }
  }
  live_.clear();
  GLOG_ERROR("front door: termination signal during a hung step; answered {} in-flight request(s) with rank_failure", n);
}

void FrontDoor::loop() {
  std::vector<zmq::pollitem_t> items = {{router_.handle(), 0, ZMQ_POLLIN, 0}, {pull_.handle(), 0, ZMQ_POLLIN, 0}};
  std::chrono::steady_clock::time_point stop_deadline{};
  bool stop_seen = false;
  bool signal_seen = false, emergency_done = false;
  std::chrono::steady_clock::time_point signal_at{};
  for (;;) {
    try {
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(20));
      drain_outbox();
      for (int i = 0; i < 256; ++i) {  // bounded, so replies interleave with a flood of input
        std::vector<zmq::message_t> parts;
        auto got = zmq::recv_multipart(router_, std::back_inserter(parts), zmq::recv_flags::dontwait);
        if (!got) break;
        if (parts.empty()) continue;
        on_frame(parts[0].to_string(), parts.back().to_string(), parts.size());
      }
    } catch (const zmq::error_t& e) {
      if (e.num() == ETERM) return;
      GLOG_WARN("front door: {}", e.what());
    } catch (const std::exception& e) {
      GLOG_ERROR("front door: {}", e.what());  // one bad frame must not end the service
    }
    if (!signal_seen && options_.stop_by_launcher && options_.stop_by_launcher->load()) {
      signal_seen = true;
      signal_at = std::chrono::steady_clock::now();
    }
    if (signal_seen && !emergency_done && !outbox_closed_ &&
        std::chrono::steady_clock::now() - signal_at >= options_.stuck_after) {
      emergency_done = true;
      stopping_ = true;
      fail_everything_in_flight();
    }
    if (stopping_ && !stop_seen) {
      stop_seen = true;
      stop_deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(flush_deadline_ms_.load());
    }
    if (stop_seen && (outbox_closed_ || std::chrono::steady_clock::now() >= stop_deadline)) {
      drain_outbox();
      router_.close();  // lingers until the last replies are on the wire
      return;
    }
  }
}

}  // namespace gossamer::coordinator
