#pragma once
// Internal to the gateway: what its HTTP handlers share.
#include <httplib.h>

#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "gateway/api_error.h"
#include "gateway/gateway.h"
#include "gateway/metrics.h"
#include "gateway/upstream.h"

namespace gossamer::gateway {

struct Gateway::Impl {
  explicit Impl(GatewayOptions o) : options(std::move(o)), upstream(options.upstream) {}

  GatewayOptions options;
  Upstream upstream;
  Metrics metrics;
  std::vector<std::string> api_keys;
  httplib::Server server;
  std::thread serving;
  std::string host;
  int port = 0;

  // The model the front door serves (its health reply), asked once; nullopt while it
  // does not answer.
  std::optional<std::string> model_name();

 private:
  std::mutex model_mu_;
  std::optional<std::string> model_;
};

void send_error(httplib::Response& res, const ApiError& e);
// POST /v1/chat/completions (chat = true) and /v1/completions.
void handle_inference(Gateway::Impl& g, const httplib::Request& req, httplib::Response& res, bool chat);

}  // namespace gossamer::gateway
