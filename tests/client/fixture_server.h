#pragma once
// TEST FIXTURE, not a mock: a tiny protocol server on a real ZeroMQ ROUTER socket
// (tcp://127.0.0.1, ephemeral port) running in its own thread. It parses frames with the
// real protocol library, tracks ids per connection with InflightIds, and "generates" by
// echoing the input words, so client tests exercise the wire end to end. Faults can be
// injected to prove the client-side accounting notices them.
#include <atomic>
#include <set>
#include <string>
#include <thread>

#include <zmq.hpp>

#include "protocol/limits.h"

namespace gossamer::test {

struct FixtureServerOptions {
  bool silent = false;             // accept frames, never reply (timeout tests)
  int drop_terminal_every = 0;     // k > 0: every k-th submit never gets its terminal reply
  int duplicate_terminal_every = 0;  // k > 0: every k-th submit gets its terminal twice
  protocol::Limits limits;
};

class FixtureServer {
 public:
  explicit FixtureServer(FixtureServerOptions options = {});
  ~FixtureServer();
  FixtureServer(const FixtureServer&) = delete;
  FixtureServer& operator=(const FixtureServer&) = delete;

  const std::string& endpoint() const { return endpoint_; }
  long submits_seen() const { return submits_; }
  long submitting_connections() const { return submitting_connections_; }  // distinct peers
  long last_message_count() const { return last_message_count_; }  // of the last chat submit

 private:
  void serve();

  FixtureServerOptions options_;
  zmq::context_t context_;
  zmq::socket_t router_;
  std::string endpoint_;
  std::atomic<bool> stop_{false};
  std::atomic<long> submits_{0};
  std::atomic<long> submitting_connections_{0};
  std::set<std::string> submitters_;  // serve thread only
  std::atomic<long> last_message_count_{0};
  std::thread thread_;
};

}  // namespace gossamer::test
