// gossamer bench: offline prefill and decode throughput of one model directory, with
// peak memory. Prints a table and writes JSON (bench/results/ by default). Under mpirun it
// runs on every rank with the given --parallel layout (rank 0 measures and prints), so a
// layout's throughput is measured on the same step path as `generate` and `serve`.
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/common.h"
#include "apps/mpi_world.h"
#include "core/timer.h"
#include "kernels/exec.h"

namespace gossamer::apps {
namespace {

struct BenchOptions {
  int prompt_tokens = 128;
  int decode_tokens = 32;
  int batch = 1;
  int repeats = 1;
  std::string json_out;
  std::string label;
};

struct BenchFigures {
  double load_s = 0, prefill_tps = 0, decode_tps = 0;
  // Until every sequence of the batch has its first token (at batch 1: time to first
  // token); the best run's.
  double ttft_s = -1;
  // GPU runs: device memory in use after the runs (cudaMemGetInfo: total - free, every
  // process on the GPU). Weights, workspace and KV pools are allocated at start and the
  // libraries' workspaces on the first steps, so this is the peak. 0 on the CPU.
  size_t peak_gpu_bytes = 0;
};

// Distinct prompts (no two sequences share a prefix), ids spread over the vocabulary.
std::vector<std::vector<int32_t>> make_prompts(const BenchOptions& o, int64_t vocab) {
  std::vector<std::vector<int32_t>> prompts(static_cast<size_t>(o.batch));
  for (size_t b = 0; b < prompts.size(); ++b)
    for (int i = 0; i < o.prompt_tokens; ++i)
      prompts[b].push_back(static_cast<int32_t>((static_cast<int64_t>(i) * 7919 + 13 + static_cast<int64_t>(b) * 104729) % vocab));
  return prompts;
}

// Best of `repeats` runs; decode counts every sequence's tokens after its first (which
// comes out of the prefill step).
BenchFigures measure(worker::Engine& engine, const BenchOptions& o) {
  BenchFigures f;
  const auto prompts = make_prompts(o, engine.config().vocab_size);
  worker::GenerateOptions g;
  g.max_tokens = o.decode_tokens;
  for (int r = 0; r < o.repeats; ++r) {
    auto results = engine.generate_batch(prompts, g);
    double decoded = 0;
    for (const auto& res : results) decoded += res.tokens.size() > 1 ? static_cast<double>(res.tokens.size() - 1) : 0;
    const auto& first = results.at(0);
    f.prefill_tps = std::max(f.prefill_tps, static_cast<double>(o.prompt_tokens) * o.batch / first.prefill_seconds);
    if (f.ttft_s < 0 || first.prefill_seconds < f.ttft_s) f.ttft_s = first.prefill_seconds;
    if (first.decode_seconds > 0) f.decode_tps = std::max(f.decode_tps, decoded / first.decode_seconds);
  }
  return f;
}

void report(const BenchOptions& o, const worker::RuntimeConfig& config, const model::ModelConfig& cfg,
            int world_size, const BenchFigures& f) {
  const double peak_gib = static_cast<double>(peak_rss_bytes()) / 1073741824.0;
  const std::string label = o.label.empty() ? std::filesystem::path(config.model.path).filename().string() : o.label;
  const std::string layout = config.parallel.sizes.to_string();
  std::printf("| model | layers | hidden | ranks | layout | threads | batch | prompt | decode | load s | prefill tok/s | decode tok/s | peak RSS GiB (rank 0) |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  std::printf("| %s | %d | %d | %d | %s | %d | %d | %d | %d | %.2f | %.1f | %.2f | %.2f |\n", label.c_str(),
              cfg.num_hidden_layers, cfg.hidden_size, world_size, layout.c_str(), config.runtime.threads, o.batch,
              o.prompt_tokens, o.decode_tokens, f.load_s, f.prefill_tps, f.decode_tps, peak_gib);
  nlohmann::json j = {{"label", label},
                      {"model_dir", config.model.path},
                      {"layers", cfg.num_hidden_layers},
                      {"hidden", cfg.hidden_size},
                      {"ranks", world_size},
                      {"layout", layout},
                      {"threads", config.runtime.threads},
                      {"batch", o.batch},
                      {"prompt_tokens", o.prompt_tokens},
                      {"decode_tokens", o.decode_tokens},
                      {"load_seconds", f.load_s},
                      {"prefill_tokens_per_s", f.prefill_tps},
                      {"decode_tokens_per_s", f.decode_tps},
                      {"peak_rss_bytes", peak_rss_bytes()},
                      {"ttft_seconds", f.ttft_s},
                      {"device", config.runtime.device}};
  if (config.runtime.device == "cuda") j["peak_gpu_bytes"] = f.peak_gpu_bytes;
  const std::string path = o.json_out.empty() ? "bench/results/bench-" + label + ".json" : o.json_out;
  const auto parent = std::filesystem::path(path).parent_path();
  std::filesystem::create_directories(parent.empty() ? "." : parent);
  std::ofstream(path) << j.dump(2) << "\n";
  std::printf("wrote %s\n", path.c_str());
}

}  // namespace

void add_bench_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("bench", "Prefill/decode tokens/s and peak memory for a model (also under mpirun)");
  auto model = std::make_shared<ModelOptions>();
  auto opt = std::make_shared<BenchOptions>();
  model->add_to(cmd);
  cmd->add_option("--prompt-tokens", opt->prompt_tokens, "Prompt length")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--decode-tokens", opt->decode_tokens, "Tokens decoded after the prompt")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--batch", opt->batch, "Sequences prefilled and decoded together (aggregate tok/s)")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--repeats", opt->repeats, "Runs; the best is reported")
      ->check(CLI::PositiveNumber)->capture_default_str();
  cmd->add_option("--json-out", opt->json_out, "JSON file (default bench/results/bench-<label>.json)");
  cmd->add_option("--label", opt->label, "Name of this run in the table and JSON");
  cmd->callback([=] {
    const auto config = model->resolve();
    auto options = model->engine_options(config);
    options.max_context = std::max(options.max_context, opt->prompt_tokens + opt->decode_tokens + 1);
    options.max_sequences = opt->batch;
    World world = make_world(config.runtime.comm_timeout());
    run_on_all_ranks(world, [&] {
      Timer load_timer;
      worker::Engine engine(config.model.path, options, world.comm.get());
      const double load_s = load_timer.seconds();
      if (!engine.is_coordinator()) return engine.follow();
      BenchFigures f = measure(engine, *opt);
      f.load_s = load_s;
      if (engine.executor().device() == Device::kCUDA) f.peak_gpu_bytes = kernels::device_memory().in_use();
      report(*opt, config, engine.config(), world.size(), f);
    });
  });
}

}  // namespace gossamer::apps
