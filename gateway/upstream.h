#pragma once
// The gateway's connections to the ZeroMQ front door (docs/PROTOCOL.md). Each HTTP worker
// thread has a DEALER connection of its own (client::Client, made on first use and kept
// for the thread's life), and serves its request on it from start to end: submit, read the
// replies, cancel. No reply crosses a thread on its way from the front door to the HTTP
// socket, so streaming adds no thread hand-off per token; and a cancel always travels on
// the connection of the request it cancels, as the protocol requires.
#include <atomic>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "protocol/server_messages.h"

namespace gossamer::client {
class Client;
}

namespace gossamer::gateway {

struct UpstreamOptions {
  std::string endpoint;
  // ZeroMQ CURVE (all three set, or none): the front door's public key and this client's
  // key pair, Z85 text (40 characters each).
  std::string curve_server_public, curve_public, curve_secret;
};

class Upstream;

// One request on the calling thread's connection. Use it on that thread only.
class UpstreamCall {
 public:
  UpstreamCall(client::Client& connection, std::string id) : connection_(connection), id_(std::move(id)) {}
  // The request's next message, or nullopt when none came within `timeout`. Messages of
  // earlier requests of this connection (a reply racing a cancel) are dropped.
  std::optional<protocol::ServerMessage> pop(std::chrono::milliseconds timeout);

 private:
  client::Client& connection_;
  std::string id_;
};

class Upstream {
 public:
  // Connects the calling thread, so a bad endpoint or key fails here.
  explicit Upstream(UpstreamOptions options);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // A fresh request id, unique to this gateway process.
  std::string new_id();
  // Sends the submit frame (encoded JSON carrying `id`) on this thread's connection.
  std::shared_ptr<UpstreamCall> submit(const std::string& id, const std::string& frame);
  // Asks the front door to end `id` (its KV is freed); must run on the submitting thread.
  void cancel(const std::string& id);

  // Round trips; nullopt when no reply came within `timeout` (front door down).
  std::optional<protocol::HealthReply> health(std::chrono::milliseconds timeout);
  std::optional<protocol::StatsReply> stats(std::chrono::milliseconds timeout);

  const std::string& endpoint() const { return options_.endpoint; }

 private:
  client::Client& connection();  // this thread's, made on first use

  UpstreamOptions options_;
  uint64_t instance_;  // tells this Upstream's per-thread connections from another's
  std::shared_ptr<zmq::context_t> context_;  // shared with the connections it outlives
  std::atomic<uint64_t> next_id_{0};
  std::string id_prefix_;
};

}  // namespace gossamer::gateway
