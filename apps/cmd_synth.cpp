// `gossamer synth`: write a random, well-scaled gpt-oss checkpoint in the HF layout.
#include <cstdio>

#include "apps/commands.h"
#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "model/synth.h"

namespace gossamer::apps {
namespace {

struct SynthArgs {
  std::string preset = "tiny";
  std::string out;
  uint64_t seed = 0;
  int layers = -1;
  int vocab = 0;
  double shard_mb = 0;
  bool force = false;
  int threads = 0;
};

void run_synth(const SynthArgs& a) {
  model::ModelConfig config = model::synth_preset(a.preset, a.layers);
  // A tiny model with the real gpt-oss vocabulary (201088) serves text prompts: the
  // harmony tokens and the tokenizer's ids then exist in its embedding.
  if (a.vocab > 0) config.vocab_size = a.vocab;
  if (a.vocab >= 201088) {  // the gpt-oss ids for <|return|> and <|endoftext|>
    config.eos_token_ids = {200002};
    config.pad_token_id = 199999;
  }
  model::SynthOptions opts;
  opts.out = a.out;
  opts.seed = a.seed;
  opts.shard_bytes = static_cast<uint64_t>(a.shard_mb * 1e6);
  opts.overwrite = a.force;
  opts.generation_eos_token_ids = model::synth_preset_generation_eos(a.preset);
  if (a.vocab > 0 && a.vocab < 201088 && a.preset == "tiny") opts.generation_eos_token_ids.clear();
  if (a.vocab >= 201088 && a.preset == "tiny") opts.generation_eos_token_ids = model::synth_preset_generation_eos("gpt-oss-20b");
  std::unique_ptr<ThreadPool> pool;
  if (a.threads > 0) {
    pool = std::make_unique<ThreadPool>(a.threads);
    opts.pool = pool.get();
  }
  GLOG_INFO("synth: preset {} ({} layers, {} experts, hidden {}, vocab {}), seed {}, into {}", a.preset,
            config.num_hidden_layers, config.num_local_experts, config.hidden_size, config.vocab_size, a.seed,
            a.out);
  model::SynthResult r = model::write_synthetic_checkpoint(config, opts);
  std::printf("wrote %s: %zu shards, %s in %.1f s\n", a.out.c_str(), r.shards.size(),
              Progress::human_bytes(static_cast<double>(r.file_bytes)).c_str(), r.seconds);
}

}  // namespace

void add_synth_command(CLI::App& app) {
  auto args = std::make_shared<SynthArgs>();
  auto* cmd = app.add_subcommand("synth", "Write a synthetic gpt-oss checkpoint (random weights, HF layout)");
  cmd->add_option("--preset", args->preset, "tiny, gpt-oss-20b or gpt-oss-120b")
      ->check(CLI::IsMember(model::synth_preset_names()))
      ->capture_default_str();
  cmd->add_option("--out", args->out, "output directory")->required();
  cmd->add_option("--seed", args->seed, "RNG seed; the same seed gives identical bytes")->capture_default_str();
  cmd->add_option("--layers", args->layers, "override num_hidden_layers (e.g. 4 layers at full 20b width)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--vocab", args->vocab, "override vocab_size (201088 = the gpt-oss tokenizer's, for text prompts)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--shard-mb", args->shard_mb, "target shard size in MB (default: 5000, 4 for tiny models)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--threads", args->threads, "generator threads (default: all cores)");
  cmd->add_flag("--force", args->force, "replace an existing checkpoint in --out");
  cmd->callback([args] { run_synth(*args); });
}

}  // namespace gossamer::apps
