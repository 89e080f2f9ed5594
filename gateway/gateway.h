#pragma once
// The OpenAI-compatible HTTP gateway: an HTTP server (cpp-httplib) in front of one ZeroMQ
// front door, of which it is an ordinary client, so several gateways can front one cluster.
//   POST /v1/chat/completions, POST /v1/completions   (gateway/inference.cpp)
//   GET  /v1/models, /health, /metrics                (gateway/gateway.cpp)
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include "gateway/openai_request.h"
#include "gateway/upstream.h"

namespace gossamer::gateway {

class Metrics;

struct GatewayOptions {
  std::string listen = "127.0.0.1:8000";  // host:port; port 0 picks a free port (see port())
  UpstreamOptions upstream;
  std::string api_key_file;                // empty: no authentication
  bool insecure = false;                   // allow a non-loopback address without keys
  Tokenize tokenize;                       // for text prompts of /v1/completions; may be empty
  int threads = 128;                       // HTTP worker threads: bounds concurrent streams
  size_t max_body_bytes = size_t{4} << 20; // larger bodies: 413
  std::chrono::milliseconds idle_timeout{60000};  // longest upstream silence within a request
  std::chrono::milliseconds probe_timeout{2000};  // health/stats round trip (/health, /metrics)
};

class Gateway {
 public:
  // Reads the key file and checks the listen policy; throws gossamer::Error.
  explicit Gateway(GatewayOptions options);
  ~Gateway();
  Gateway(const Gateway&) = delete;
  Gateway& operator=(const Gateway&) = delete;

  // Binds and serves on a background thread. Throws when the address cannot be bound.
  void start();
  // Stops accepting and ends the serving thread (in-flight streams are cut).
  void stop();
  int port() const;
  const Metrics& metrics() const;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

}  // namespace gossamer::gateway
