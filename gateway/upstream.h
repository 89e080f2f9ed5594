#pragma once
// The gateway's one connection to the ZeroMQ front door (docs/PROTOCOL.md), shared by all
// HTTP threads. A ZeroMQ socket belongs to one thread, so an I/O thread owns the DEALER:
// HTTP threads queue frames to send and wake it through an eventfd (polled together with
// the socket, so a send never waits for a poll timeout); it hands every reply to the
// RequestChannel registered under the reply's request id (or health/stats correlation id).
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "gateway/request_channel.h"
#include "protocol/server_messages.h"

namespace gossamer::gateway {

struct UpstreamOptions {
  std::string endpoint;
  // ZeroMQ CURVE (all three set, or none): the front door's public key and this client's
  // key pair, Z85 text (40 characters each).
  std::string curve_server_public, curve_public, curve_secret;
};

class Upstream {
 public:
  explicit Upstream(UpstreamOptions options);
  ~Upstream();
  Upstream(const Upstream&) = delete;
  Upstream& operator=(const Upstream&) = delete;

  // A fresh request id, unique to this gateway process.
  std::string new_id();
  // Registers `id`, then queues the submit frame (already encoded JSON carrying `id`).
  std::shared_ptr<RequestChannel> submit(const std::string& id, std::string frame);
  // Asks the front door to end `id` (its KV is freed) and stops routing its replies.
  void cancel(const std::string& id);
  // Stops routing replies of `id` (after its terminal reply, or when giving up on it).
  void forget(const std::string& id);

  // Round trips; nullopt when no reply came within `timeout` (front door down).
  std::optional<protocol::HealthReply> health(std::chrono::milliseconds timeout);
  std::optional<protocol::StatsReply> stats(std::chrono::milliseconds timeout);

  const std::string& endpoint() const { return options_.endpoint; }

 private:
  void send(std::string frame);
  void run();
  void dispatch(protocol::ServerMessage m);
  template <class Reply>
  std::optional<Reply> probe(bool health, std::chrono::milliseconds timeout);

  UpstreamOptions options_;
  int wake_fd_ = -1;
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> next_id_{0};
  std::string id_prefix_;
  std::mutex mu_;  // guards outbox_ and channels_
  std::vector<std::string> outbox_;
  std::unordered_map<std::string, std::shared_ptr<RequestChannel>> channels_;
  std::thread io_;
};

}  // namespace gossamer::gateway
