#pragma once
// Options and helpers shared by the verbs that run the model.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "worker/engine.h"
#include "worker/runtime_config.h"

namespace gossamer::apps {

// "1,2,3" -> {1,2,3}; throws kInvalidArgument naming the bad piece.
std::vector<int32_t> parse_ids(const std::string& text);

struct ModelOptions {
  std::string config_file;  // --config: YAML (worker/runtime_config.h)
  std::string model_dir;
  std::string layout;       // auto | hf | original (default: the config's, else auto)
  std::string parallel;     // --parallel tp=2,ep=2,... on top of the config
  std::string dispatch;     // --moe-dispatch allgather | alltoall
  int threads = -1;
  std::string device;  // empty: the config's runtime.device
  std::string gpu_comm;           // empty: the config's runtime.gpu_comm
  std::string precision;          // empty: the config's runtime.precision
  double gpu_memory_fraction = 0;  // 0: the config's runtime.gpu_memory_fraction
  int max_context = 4096;
  int prefill_chunk = 0;
  // Registers --config, --model, --layout, --parallel, --moe-dispatch, --threads,
  // --max-context, --prefill-chunk.
  void add_to(CLI::App* cmd);
  // The config file (if any) with the command line on top; checks a model is named.
  worker::RuntimeConfig resolve() const;
  worker::EngineOptions engine_options(const worker::RuntimeConfig& config) const;
};

struct DumpOptions {
  std::vector<std::string> specs;  // --dump NAME[:LAYER|*]
  std::string dir = "dump";
  void add_to(CLI::App* cmd);
};

}  // namespace gossamer::apps
