#pragma once
// Flags of the HTTP gateway, shared by `gossamer gateway` and `gossamer serve --http`.
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "gateway/gateway.h"
#include "tokenizer/tokenizer.h"

namespace gossamer::apps {

struct GatewayFlags {
  std::string api_key_file;
  bool insecure = false;
  int http_threads = 128;
  double upstream_timeout_s = 60;
  // ZeroMQ CURVE toward the front door: files (`gateway`), or keys set directly (`serve --http`).
  std::string upstream_server_key_file, upstream_client_key_file;
  std::string curve_server_public, curve_public, curve_secret;
  void add_to(CLI::App* cmd);
  // Options for a gateway on `listen` in front of `upstream`.
  gateway::GatewayOptions options(const std::string& listen, const std::string& upstream) const;
};

// Text -> ids with `tokenizer` as plain text (no special tokens), for /v1/completions.
gateway::Tokenize tokenize_with(const Tokenizer& tokenizer);

// "tcp://*:5555" / "tcp://0.0.0.0:5555" -> "tcp://127.0.0.1:5555": where a gateway on the
// same machine connects to a front door bound to every interface.
std::string local_endpoint(std::string bound);

}  // namespace gossamer::apps
