// gossamer gateway: the OpenAI-compatible HTTP API (gateway/) in front of a running
// server's ZeroMQ front door. Several gateways may front one cluster.
#include <atomic>
#include <chrono>
#include <csignal>
#include <fstream>
#include <mutex>
#include <optional>
#include <thread>

#include "apps/commands.h"
#include "apps/gateway_flags.h"
#include "core/log.h"
#include "tokenizer/locate.h"

namespace gossamer::apps {
namespace {

std::atomic<bool> g_gateway_stop{false};
extern "C" void on_gateway_signal(int) { g_gateway_stop.store(true); }

struct GatewayArgs {
  std::string upstream = "tcp://127.0.0.1:5555", listen = "127.0.0.1:8000", tokenizer, port_file;
  GatewayFlags flags;
};

void run_gateway(const GatewayArgs& a) {
  gateway::GatewayOptions o = a.flags.options(a.listen, a.upstream);
  // Text prompts of /v1/completions are tokenized here; the tokenizer loads on first use,
  // so a gateway that never sees one starts at once.
  std::string tokenizer_path;
  try {
    tokenizer_path = locate_tokenizer({a.tokenizer, ""});
  } catch (const std::exception& e) {
    GLOG_WARN("gateway: no tokenizer ({}); /v1/completions takes token-id prompts only", e.what());
  }
  if (!tokenizer_path.empty()) {
    auto once = std::make_shared<std::once_flag>();
    auto loaded = std::make_shared<std::optional<Tokenizer>>();
    o.tokenize = [once, loaded, tokenizer_path](const std::string& text) {
      std::call_once(*once, [&] { loaded->emplace(Tokenizer::load(tokenizer_path)); });
      return tokenize_with(**loaded)(text);
    };
  }
  gateway::Gateway gw(std::move(o));
  std::signal(SIGINT, on_gateway_signal);
  std::signal(SIGTERM, on_gateway_signal);
  gw.start();
  if (!a.port_file.empty()) std::ofstream(a.port_file) << gw.port() << "\n";
  while (!g_gateway_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  gw.stop();
}

}  // namespace

void add_gateway_command(CLI::App& app) {
  auto a = std::make_shared<GatewayArgs>();
  auto* cmd = app.add_subcommand("gateway", "OpenAI-compatible HTTP API in front of a running server");
  cmd->add_option("--upstream", a->upstream, "The server's ZeroMQ address")->capture_default_str();
  cmd->add_option("--listen", a->listen, "HTTP address HOST:PORT (port 0: any free port)")->capture_default_str();
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json for text prompts of /v1/completions");
  cmd->add_option("--port-file", a->port_file, "Write the bound HTTP port here once listening");
  cmd->add_option("--upstream-server-key", a->flags.upstream_server_key_file,
                  "ZeroMQ CURVE: the front door's public key file (PREFIX.pub of gossamer keygen)");
  cmd->add_option("--upstream-client-key", a->flags.upstream_client_key_file,
                  "ZeroMQ CURVE: this gateway's secret key file (PREFIX.key; its .pub must be allowed by the server)");
  a->flags.add_to(cmd);
  cmd->callback([a] { run_gateway(*a); });
}

}  // namespace gossamer::apps
