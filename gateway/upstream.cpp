#include "gateway/upstream.h"

#include <map>

#include "client/client.h"
#include "core/error.h"
#include "core/log.h"

namespace gossamer::gateway {
namespace {

using Clock = std::chrono::steady_clock;


// The id a reply belongs to: the request's id, or a health/stats correlation id.
std::optional<std::string> route_of(const protocol::ServerMessage& m) {
  if (auto id = protocol::request_id_of(m)) return id;
  if (auto* h = std::get_if<protocol::HealthReply>(&m)) return h->id;
  if (auto* s = std::get_if<protocol::StatsReply>(&m)) return s->id;
  if (auto* e = std::get_if<protocol::ErrorReply>(&m)) return e->ref;
  return std::nullopt;
}

std::atomic<uint64_t> g_instances{0};
// Per thread: Upstream instance -> its connection. Destroyed with the thread (an HTTP
// worker lives as long as its gateway's server).
thread_local std::map<uint64_t, std::unique_ptr<client::Client>> t_connections;

// The next message of `client` about `id` within `timeout`; others are dropped.
std::optional<protocol::ServerMessage> next_for(client::Client& client, const std::string& id,
                                                std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    std::optional<protocol::ServerMessage> m;
    try {
      m = client.poll(std::max(left, std::chrono::milliseconds(0)));
    } catch (const Error& e) {
      GLOG_WARN("gateway: {}", e.what());
      if (Clock::now() >= deadline) return std::nullopt;
      continue;
    }
    if (!m) return std::nullopt;
    if (route_of(*m) == id) return m;
  }
}

}  // namespace

std::optional<protocol::ServerMessage> UpstreamCall::pop(std::chrono::milliseconds timeout) {
  return next_for(connection_, id_, timeout);
}

Upstream::Upstream(UpstreamOptions options)
    : options_(std::move(options)),
      instance_(g_instances.fetch_add(1)),
      context_(std::make_shared<zmq::context_t>(1)),
      id_prefix_(client::random_id_prefix("gw")) {
  connection();
}

Upstream::~Upstream() { t_connections.erase(instance_); }

client::Client& Upstream::connection() {
  auto& c = t_connections[instance_];
  if (!c) {
    client::ClientOptions o;
    o.curve_server_public = options_.curve_server_public;
    o.curve_public = options_.curve_public;
    o.curve_secret = options_.curve_secret;
    try {
      c = std::make_unique<client::Client>(options_.endpoint, context_, o);
    } catch (...) {
      t_connections.erase(instance_);
      throw;
    }
  }
  return *c;
}

std::string Upstream::new_id() { return id_prefix_ + std::to_string(next_id_.fetch_add(1)); }

std::shared_ptr<UpstreamCall> Upstream::submit(const std::string& id, const std::string& frame) {
  client::Client& c = connection();
  c.send_raw(frame);
  return std::make_shared<UpstreamCall>(c, id);
}

void Upstream::cancel(const std::string& id) {
  try {
    connection().cancel(id);
  } catch (const Error& e) {
    GLOG_WARN("gateway: cancel of {} not sent: {}", id, e.what());
  }
}

std::optional<protocol::HealthReply> Upstream::health(std::chrono::milliseconds timeout) {
  client::Client& c = connection();
  const std::string id = new_id();
  try {
    c.send_health(id);
  } catch (const Error&) {
    return std::nullopt;
  }
  auto m = next_for(c, id, timeout);
  if (!m) return std::nullopt;
  if (auto* h = std::get_if<protocol::HealthReply>(&*m)) return std::move(*h);
  return std::nullopt;
}

std::optional<protocol::StatsReply> Upstream::stats(std::chrono::milliseconds timeout) {
  client::Client& c = connection();
  const std::string id = new_id();
  try {
    c.send_stats(id);
  } catch (const Error&) {
    return std::nullopt;
  }
  auto m = next_for(c, id, timeout);
  if (!m) return std::nullopt;
  if (auto* s = std::get_if<protocol::StatsReply>(&*m)) return std::move(*s);
  return std::nullopt;
}

}  // namespace gossamer::gateway
