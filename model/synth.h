#pragma once
// Synthetic gpt-oss checkpoints: random but well-scaled weights in the exact HF layout
// (config.json, generation_config.json, sharded model-*.safetensors with MXFP4 experts,
// model.safetensors.index.json), for tests and benchmarks without the real download.
// Tensors are generated and written one at a time, each row from its own deterministic
// RNG stream (seed, tensor name, row), so the output depends only on the seed — not on
// thread count or shard size — and the 20b preset (~13 GB) never sits in memory.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "model/config.h"

namespace gossamer {
class ThreadPool;
}

namespace gossamer::model {

// "tiny" (the shape of tests/data/tiny), "gpt-oss-20b", "gpt-oss-120b". layers > 0
// overrides num_hidden_layers (e.g. 4 layers of the real 20b width for a bench).
ModelConfig synth_preset(const std::string& name, int layers = -1);
std::vector<std::string> synth_preset_names();

struct SynthOptions {
  std::filesystem::path out;
  uint64_t seed = 0;
  uint64_t shard_bytes = 0;    // 0: 5 GB, or 4 MB when the whole model is under 64 MB
  bool overwrite = false;      // replace an existing checkpoint in `out`
  bool show_progress = true;
  ThreadPool* pool = nullptr;  // nullptr: ThreadPool::global()
};

struct SynthResult {
  std::vector<std::filesystem::path> shards;
  uint64_t tensor_bytes = 0;   // sum of tensor data (the index's total_size)
  uint64_t file_bytes = 0;     // including headers
  double seconds = 0;
};

// Throws gossamer::Error (kInvalidArgument for an existing checkpoint without overwrite,
// kIo on write errors). Config and index are written last: an interrupted run leaves a
// directory that Checkpoint::open refuses.
SynthResult write_synthetic_checkpoint(const ModelConfig& config, const SynthOptions& options);

}  // namespace gossamer::model
