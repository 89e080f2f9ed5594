// gossamer bench: offline prefill and decode throughput of one model directory, with
// peak memory. Prints a table and writes JSON (bench/results/ by default).
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/common.h"
#include "core/timer.h"

namespace gossamer::apps {
namespace {

struct BenchOptions {
  int prompt_tokens = 128;
  int decode_tokens = 32;
  int repeats = 1;
  std::string json_out;
  std::string label;
};

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Prefill/decode tokens/s and peak memory for a model");
  auto model = std::make_shared<ModelOptions>();
  auto opt = std::make_shared<BenchOptions>();
  model->add_to(cmd);
  cmd->add_option("--prompt-tokens", opt->prompt_tokens, "Prompt length")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--decode-tokens", opt->decode_tokens, "Tokens decoded after the prompt")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--repeats", opt->repeats, "Runs; the best is reported")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--json-out", opt->json_out, "JSON file (default bench/results/bench-<label>.json)");
  cmd->add_option("--label", opt->label, "Name of this run in the table and JSON");
  cmd->callback([=] {
    const auto config = model->resolve();
    auto options = model->engine_options(config);
    options.max_context = std::max(options.max_context, opt->prompt_tokens + opt->decode_tokens + 1);
    Timer load_timer;
    worker::Engine engine(config.model.path, options);
    const double load_s = load_timer.seconds();
    const auto& cfg = engine.config();
    std::vector<int32_t> prompt(static_cast<size_t>(opt->prompt_tokens));
    for (size_t i = 0; i < prompt.size(); ++i)
      prompt[i] = static_cast<int32_t>((i * 7919 + 13) % static_cast<size_t>(cfg.vocab_size));
    worker::GenerateOptions g;
    g.max_tokens = opt->decode_tokens;
    double best_prefill = 0, best_decode = 0;
    for (int r = 0; r < opt->repeats; ++r) {
      auto res = engine.generate(prompt, g);
      // decode_seconds covers max_tokens - 1 forward passes (the first token comes from prefill).
      const double prefill_tps = opt->prompt_tokens / res.prefill_seconds;
      const double decode_tps = res.tokens.size() > 1 ? (res.tokens.size() - 1) / res.decode_seconds : 0;
      best_prefill = std::max(best_prefill, prefill_tps);
      best_decode = std::max(best_decode, decode_tps);
    }
    const double peak_gib = peak_rss_bytes() / 1073741824.0;
    std::string label = opt->label.empty() ? std::filesystem::path(config.model.path).filename().string()
                                           : opt->label;
    std::printf("| model | layers | hidden | threads | prompt | decode | load s | prefill tok/s | decode tok/s | peak RSS GiB |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
    std::printf("| %s | %d | %d | %d | %d | %d | %.2f | %.1f | %.2f | %.2f |\n", label.c_str(),
                cfg.num_hidden_layers, cfg.hidden_size, config.runtime.threads, opt->prompt_tokens,
                opt->decode_tokens, load_s, best_prefill, best_decode, peak_gib);
    nlohmann::json j = {{"label", label},           {"model_dir", config.model.path},
                        {"layers", cfg.num_hidden_layers}, {"hidden", cfg.hidden_size},
                        {"threads", config.runtime.threads}, {"prompt_tokens", opt->prompt_tokens},
                        {"decode_tokens", opt->decode_tokens}, {"load_seconds", load_s},
                        {"prefill_tokens_per_s", best_prefill}, {"decode_tokens_per_s", best_decode},
                        {"peak_rss_bytes", peak_rss_bytes()}};
    std::string path = opt->json_out.empty() ? "bench/results/bench-" + label + ".json" : opt->json_out;
    std::filesystem::create_directories(std::filesystem::path(path).parent_path().empty()
                                            ? "." : std::filesystem::path(path).parent_path());
    std::ofstream(path) << j.dump(2) << "\n";
    std::printf("wrote %s\n", path.c_str());
  });
}

}  // namespace gossamer::apps
