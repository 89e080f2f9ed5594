// gossamer loadgen: many concurrent requests against a running server; reports throughput
// and TTFT / inter-token latency percentiles, writes JSON and a PNG plot.
#include <iostream>

#include "apps/commands.h"
#include "client/loadgen.h"

namespace gossamer::apps {

void add_loadgen_command(CLI::App& app) {
  auto o = std::make_shared<client::LoadgenOptions>();
  auto prompt_len = std::make_shared<std::string>("fixed:32");
  auto output_len = std::make_shared<std::string>("fixed:64");
  auto timeout_s = std::make_shared<double>(60);
  auto* cmd = app.add_subcommand("loadgen", "Load a server with concurrent requests and report latency");
  cmd->add_option("--endpoint", o->endpoint, "Server address")->capture_default_str();
  cmd->add_option("--requests,-n", o->requests, "Requests to send")->capture_default_str();
  cmd->add_option("--concurrency,-c", o->concurrency, "Requests in flight at once")->capture_default_str();
  cmd->add_option("--connections", o->connections,
                  "Client connections the requests are spread over (0 = one per in-flight request)")
      ->capture_default_str();
  cmd->add_option("--prompt-len", *prompt_len, "fixed:N, uniform:A:B or normal:MEAN:SD (words, or ids with --token-prompts)")
      ->capture_default_str();
  cmd->add_option("--output-len", *output_len, "max_tokens distribution, same forms")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Seed of the lengths and prompts")->capture_default_str();
  cmd->add_option("--temperature", o->temperature, "Sampling temperature (0 = greedy)")->capture_default_str();
  cmd->add_option("--token-prompts", o->token_prompts_vocab, "Send `tokens` prompts drawn from [0, N) instead of text");
  cmd->add_option("--request-timeout", *timeout_s, "Seconds of silence before a request counts as lost")
      ->capture_default_str();
  cmd->add_option("--json", o->json_path, "Write the report as JSON here");
  cmd->add_option("--plot", o->plot_path, "Write a PNG of latency over time here (gnuplot)");
  cmd->callback([=] {
    client::LoadgenOptions opts = *o;
    opts.prompt_len = client::LengthDist::parse(*prompt_len);
    opts.output_len = client::LengthDist::parse(*output_len);
    opts.request_timeout = client::Millis(static_cast<int64_t>(*timeout_s * 1000));
    const int rc = client::run_loadgen_command(opts, std::cout, std::cerr);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace gossamer::apps
