#pragma once
// Options and helpers shared by the verbs that run the model.
#include <cstdint>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "worker/engine.h"

namespace gossamer::apps {

// "1,2,3" -> {1,2,3}; throws kInvalidArgument naming the bad piece.
std::vector<int32_t> parse_ids(const std::string& text);

struct ModelOptions {
  std::string model_dir;
  std::string layout = "auto";  // auto | hf | original
  int threads = 0;
  int max_context = 4096;
  int prefill_chunk = 0;
  // Registers --model, --layout, --threads, --max-context, --prefill-chunk.
  void add_to(CLI::App* cmd);
  worker::EngineOptions engine_options() const;
};

struct DumpOptions {
  std::vector<std::string> specs;  // --dump NAME[:LAYER|*]
  std::string dir = "dump";
  void add_to(CLI::App* cmd);
};

}  // namespace gossamer::apps
