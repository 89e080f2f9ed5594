#pragma once
// `gossamer serve --http HOST:PORT`: the HTTP gateway in the server's own process, for the
// one-command case. It is the same client of the front door a separate `gossamer gateway`
// is; it connects once the front door has written its bound address to `endpoint_file`.
#include <atomic>
#include <memory>
#include <string>
#include <thread>

#include "apps/gateway_flags.h"

namespace gossamer::apps {

class ServeGateway {
 public:
  // `port_file`: when set, the bound HTTP port is written there once listening.
  ServeGateway(std::string listen, GatewayFlags flags, std::string endpoint_file, const Tokenizer& tokenizer,
               std::string port_file = "");
  ~ServeGateway();  // stops the gateway

 private:
  std::atomic<bool> stop_{false};
  std::unique_ptr<gateway::Gateway> gateway_;
  std::thread starter_;
};

}  // namespace gossamer::apps
