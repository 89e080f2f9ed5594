#pragma once
// The front door's ZeroMQ CURVE allow-list: a ZAP handler (ZeroMQ RFC 27) on
// inproc://zeromq.zap.01 of the front door's context. libzmq asks it about every CURVE
// handshake; a client whose public key is not listed is refused during the handshake and
// never gets to send a frame (it sees nothing: no reply, no error).
#include <atomic>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

namespace gossamer::coordinator {

class ZapAuthenticator {
 public:
  // Binds the handler in `context` (before any CURVE socket of it binds) and serves it on
  // a thread of its own. `allowed`: Z85 client public keys.
  ZapAuthenticator(zmq::context_t& context, const std::vector<std::string>& allowed);
  ~ZapAuthenticator();
  ZapAuthenticator(const ZapAuthenticator&) = delete;
  ZapAuthenticator& operator=(const ZapAuthenticator&) = delete;

  uint64_t refused() const { return refused_.load(); }

 private:
  void loop();

  zmq::socket_t socket_;
  std::set<std::string> allowed_;  // Z85
  std::atomic<bool> stop_{false};
  std::atomic<uint64_t> refused_{0};
  std::thread thread_;
};

}  // namespace gossamer::coordinator
