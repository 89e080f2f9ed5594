#pragma once
// The front door: one thread that owns the ZeroMQ ROUTER socket (docs/PROTOCOL.md, "How a
// server implements this"). It reads frames, validates them with protocol/, renders and
// tokenizes prompts, and hands work to the step thread through the Inbox; it sends what
// the step thread puts in the Outbox. It never waits for the model: every poll has a
// timeout and every send is non-blocking, so a busy or hung step never silences it
// (health keeps answering).
//
// Thread-safety: the ROUTER socket, InflightIds and the PULL end of the outbox belong to
// the front door thread. Outbox (the PUSH end) belongs to the step thread. start(),
// request_stop() and join() are for the owning (main) thread; counters are atomics.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>
#include <zmq_addon.hpp>

#include "coordinator/inbox.h"
#include "coordinator/zap_authenticator.h"
#include "coordinator/stats_board.h"
#include "tokenizer/tokenizer.h"
#include "protocol/client_messages.h"
#include "protocol/inflight_ids.h"
#include "protocol/limits.h"
#include "protocol/server_messages.h"

namespace gossamer::coordinator {

struct FrontDoorOptions {
  std::string endpoint = "tcp://127.0.0.1:5555";
  protocol::Limits limits;           // frame size, max_tokens, context_length, vocab
  int64_t default_max_tokens = 512;  // when params.max_tokens is absent
  int64_t model_vocab = 0;           // ids a prompt may use (rendered text included)
  double heartbeat_s = 5;            // ZMTP heartbeat toward clients
  int world_size = 1;
  std::string model_name;
  std::string endpoint_file;  // when set, the bound address is written there once serving
  // Back-pressure (PROTOCOL.md, "Back-pressure"). A connection may have this many requests
  // in flight; the next submit is refused `overloaded` (terminal, with its id).
  int64_t max_inflight_per_connection = 256;
  // Replies queued toward one client that does not read (ZeroMQ's send high-water mark, in
  // messages). When a reply would exceed it the client counts as gone: its requests are
  // cancelled (KV freed) and nothing more is queued for it, so it can neither grow the
  // server's memory nor hold up the step thread or other clients.
  int send_hwm = 10000;
  // ZeroMQ CURVE: the front door's secret key (Z85) and the client public keys allowed in.
  // Empty secret: no encryption, no authentication (loopback or a private network only).
  std::string curve_secret_key;
  std::vector<std::string> curve_allowed_clients;
  // Set when the launcher sent this process a stop signal. Under mpirun this is how a
  // dead peer shows: Open MPI SIGTERMs the survivors and SIGKILLs them a second later
  // (odls_base_sigkill_timeout). When the step thread has not closed the outbox
  // `stuck_after` after it, the front door itself answers every in-flight request with
  // `rank_failure` before the SIGKILL lands. A stop from anyone else waits for the running
  // step, however long. Null: never (one rank: no peer can die in a step).
  const std::atomic<bool>* stop_by_launcher = nullptr;
  std::chrono::milliseconds stuck_after{600};
};

// The step thread's end of the reply channel (an inproc PUSH socket).
class Outbox {
 public:
  explicit Outbox(zmq::context_t& ctx);
  void send(const std::string& connection, const protocol::ServerMessage& m);
  // Tells the front door that no more replies will come (it flushes and stops).
  void close();

 private:
  zmq::socket_t push_;
  bool closed_ = false;
};

class FrontDoor {
 public:
  // `stats`, when given, answers `stats` requests that arrive during a step (see
  // stats_board.h); without it (and between steps) the step thread answers them.
  FrontDoor(const FrontDoorOptions& options, const Tokenizer& tokenizer, Inbox& inbox,
            const StatsBoard* stats = nullptr);
  ~FrontDoor();

  void start();
  // From now on new submits get `shutting_down`; the thread ends after Outbox::close and
  // a flush of what is queued (or after `flush_deadline` in any case).
  void request_stop(std::chrono::milliseconds flush_deadline = std::chrono::milliseconds(3000));
  void join();
  std::unique_ptr<Outbox> make_outbox() { return std::make_unique<Outbox>(context_); }

  int64_t rejected() const { return rejected_.load(); }
  // The address actually bound (a `*` port resolved), e.g. tcp://127.0.0.1:40123.
  const std::string& bound_endpoint() const { return bound_endpoint_; }

 private:
  void loop();
  void on_frame(const std::string& connection, const std::string& payload, size_t parts);
  void on_submit(const std::string& connection, protocol::Submit& s);
  void on_outbound(std::vector<zmq::message_t>& parts);
  bool send_to(const std::string& connection, const std::string& payload);
  void send_error(const std::string& connection, const protocol::ErrorReply& e);
  // A peer that cannot be reached: its requests are cancelled silently (PROTOCOL.md).
  void connection_gone(const std::string& connection);
  void drain_outbox();
  void fail_everything_in_flight();

  FrontDoorOptions options_;
  Tokenizer tokenizer_;
  Inbox& inbox_;
  const StatsBoard* stats_;
  zmq::context_t context_;
  std::unique_ptr<ZapAuthenticator> zap_;  // before router_: outlives it
  zmq::socket_t router_;
  zmq::socket_t pull_;
  std::thread thread_;
  std::atomic<bool> stopping_{false};
  std::atomic<int64_t> flush_deadline_ms_{3000};
  std::atomic<int64_t> rejected_{0};
  std::chrono::steady_clock::time_point started_;
  protocol::InflightIds inflight_;
  std::mt19937_64 rng_;
  bool outbox_closed_ = false;
  std::map<std::string, int64_t> live_;  // connection -> requests in flight (emergency path)
  std::string bound_endpoint_;
};

}  // namespace gossamer::coordinator
