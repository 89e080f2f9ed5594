#include "apps/gateway_flags.h"

#include "protocol/curve_keys.h"

namespace gossamer::apps {

void GatewayFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--api-key-file", api_key_file,
                  "HTTP API keys, one per line: requests to /v1/* need 'Authorization: Bearer <key>'");
  cmd->add_flag("--insecure", insecure,
                "Allow listening on a non-loopback address without authentication (HTTP: --api-key-file; "
                "serve's ZeroMQ front door: CURVE keys)");
  cmd->add_option("--http-threads", http_threads, "HTTP worker threads (bounds concurrent streams)")
      ->capture_default_str();
  cmd->add_option("--upstream-timeout", upstream_timeout_s,
                  "Seconds of silence from the cluster within a request before it fails with 503")
      ->capture_default_str();
}

gateway::GatewayOptions GatewayFlags::options(const std::string& listen, const std::string& upstream) const {
  gateway::GatewayOptions o;
  o.listen = listen;
  o.upstream.endpoint = upstream;
  o.api_key_file = api_key_file;
  o.insecure = insecure;
  o.threads = http_threads;
  o.upstream.curve_server_public = curve_server_public;
  o.upstream.curve_public = curve_public;
  o.upstream.curve_secret = curve_secret;
  if (!upstream_server_key_file.empty() || !upstream_client_key_file.empty()) {
    if (upstream_server_key_file.empty() || upstream_client_key_file.empty())
      throw CLI::ValidationError("--upstream-server-key and --upstream-client-key go together");
    o.upstream.curve_server_public = protocol::read_curve_key(upstream_server_key_file);
    o.upstream.curve_secret = protocol::read_curve_key(upstream_client_key_file);
    o.upstream.curve_public = protocol::curve_public_of(o.upstream.curve_secret);
  }
  o.idle_timeout = std::chrono::milliseconds(static_cast<int64_t>(upstream_timeout_s * 1000));
  return o;
}

gateway::Tokenize tokenize_with(const Tokenizer& tokenizer) {
  return [tokenizer](const std::string& text) {
    const std::vector<uint32_t> ids = tokenizer.encode(text, SpecialTokens::kAsText);
    return std::vector<int32_t>(ids.begin(), ids.end());
  };
}

std::string local_endpoint(std::string bound) {
  for (const char* any : {"tcp://*:", "tcp://0.0.0.0:"}) {
    const std::string prefix = any;
    if (bound.rfind(prefix, 0) == 0) return "tcp://127.0.0.1:" + bound.substr(prefix.size());
  }
  return bound;
}

}  // namespace gossamer::apps
