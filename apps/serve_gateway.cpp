#include "apps/serve_gateway.h"

#include <chrono>
#include <fstream>

#include "core/log.h"

namespace gossamer::apps {

ServeGateway::ServeGateway(std::string listen, GatewayFlags flags, std::string endpoint_file, const Tokenizer& tokenizer,
                           std::string port_file) {
  starter_ = std::thread([this, listen, flags, endpoint_file, tokenizer, port_file] {
    std::string endpoint;
    while (!stop_.load()) {  // the front door writes the file once it is bound
      std::ifstream f(endpoint_file);
      if (f >> endpoint) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    if (stop_.load()) return;
    try {
      gateway::GatewayOptions o = flags.options(listen, local_endpoint(endpoint));
      o.tokenize = tokenize_with(tokenizer);
      gateway_ = std::make_unique<gateway::Gateway>(std::move(o));
      gateway_->start();
      if (!port_file.empty()) std::ofstream(port_file) << gateway_->port() << "\n";
    } catch (const std::exception& e) {
      GLOG_ERROR("serve --http {}: the gateway did not start: {}", listen, e.what());
      gateway_.reset();
    }
  });
}

ServeGateway::~ServeGateway() {
  stop_.store(true);
  if (starter_.joinable()) starter_.join();
  if (gateway_) gateway_->stop();
}

}  // namespace gossamer::apps
