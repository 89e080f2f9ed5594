#pragma once
// A Gossamer front-door client: one ZeroMQ DEALER socket (one connection), many
// concurrent requests on it, told apart by the client-chosen request id.
//
// Thread-safety: none (a ZeroMQ socket belongs to one thread). Use one Client per thread.
// Blocking: every call is bounded: sends by ClientOptions::send_timeout, receives by the
// timeout the caller passes. Transport failures throw gossamer::Error(kComm); a frame that
// is not a valid server message throws gossamer::Error(kCorruptData) after consuming it.
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include <zmq.hpp>

#include "protocol/client_messages.h"
#include "protocol/limits.h"
#include "protocol/server_messages.h"

namespace gossamer::client {

using Millis = std::chrono::milliseconds;

struct ClientOptions {
  Millis send_timeout{5000};   // a full send queue (server gone or not reading) fails after this
  Millis linger{500};          // how long close() may flush unsent frames (e.g. a last cancel)
  Millis heartbeat_ivl{2000};  // ZMTP ping, so a dead TCP peer is noticed and reconnected
  size_t max_frame_bytes = protocol::kDefaultMaxFrameBytes;
  // ZeroMQ CURVE (all three, or none): the server's public key and this client's key
  // pair, Z85 text (protocol/curve_keys.h).
  std::string curve_server_public, curve_public, curve_secret;
};

// A prefix for request ids that differs between objects ("<lead><8 random hex digits>-"), so
// ids stay unique even when a server sees several clients through one proxy or a client
// reconnects.
std::string random_id_prefix(const char* lead);

class Client {
 public:
  explicit Client(std::string endpoint, ClientOptions options = {});
  // Shares one ZeroMQ context (and its I/O thread) with other clients of this thread, e.g.
  // the many connections of a load generator.
  Client(std::string endpoint, std::shared_ptr<zmq::context_t> context, ClientOptions options = {});
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // Sends the submit. An empty id is replaced by a fresh one unique to this Client.
  // Returns the id the replies will carry.
  std::string submit(protocol::Submit request);
  void cancel(const std::string& id);
  // Fire-and-forget health/stats requests; the reply arrives through poll() with `id`.
  void send_health(std::optional<std::string> id = std::nullopt);
  void send_stats(std::optional<std::string> id = std::nullopt);
  // Round trips: wait up to `timeout` for the reply, keeping other messages for poll().
  // Throws gossamer::Error(kComm) on timeout.
  protocol::HealthReply health(Millis timeout);
  protocol::StatsReply stats(Millis timeout);

  // The next server message, or nullopt when none arrives within `timeout`.
  std::optional<protocol::ServerMessage> poll(Millis timeout);
  // The next message whose request id is `id`; others are kept, in order, for poll().
  std::optional<protocol::ServerMessage> poll_for(const std::string& id, Millis timeout);

  // Waits up to `timeout` until one of `clients` has a message for poll() and returns its
  // index, or -1 when none has.
  static int wait_any(std::span<Client* const> clients, Millis timeout);

  // Any bytes as one frame: for tests of the server's bad-input handling and for debugging.
  void send_raw(std::string_view frame);
  std::string new_id();
  const std::string& endpoint() const { return endpoint_; }

 private:
  std::optional<protocol::ServerMessage> receive(Millis timeout);
  template <class Reply>
  Reply round_trip(const std::string& id, Millis timeout, const char* what);

  std::string endpoint_;
  ClientOptions options_;
  std::shared_ptr<zmq::context_t> context_;  // before socket_: outlives it
  zmq::socket_t socket_;
  std::deque<protocol::ServerMessage> kept_;  // read while waiting for something else
  std::string id_prefix_;
  uint64_t next_id_ = 0;
};

}  // namespace gossamer::client
