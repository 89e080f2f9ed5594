#pragma once
// Named intermediates of a forward pass (docs/ARCHITECTURE.md, "Conventions"). `--dump attn_out:3`
// asks for the attention output of layer 3; `--dump resid_after_mlp:*` for every layer;
// names without a layer ("embedding", "final_norm", "logits") take no suffix. Each dump is
// written as <dir>/<name>.<layer>.npy (or <name>.npy), shape [n_tokens, width].
//
// Names: embedding, attn_norm, q, k, v (after RoPE for q/k), attn_out (before o_proj),
// o_proj, resid_after_attn, mlp_norm, router_logits, moe_out, resid_after_mlp,
// final_norm, logits.
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "core/dtype.h"

namespace gossamer::worker {

constexpr int kNoLayer = -1;
constexpr int kAllLayers = -2;

struct DumpRequest {
  std::string name;
  int layer = kNoLayer;
  static DumpRequest parse(const std::string& spec);  // "name", "name:3", "name:*"
};

class DumpSink {
 public:
  explicit DumpSink(std::vector<DumpRequest> requests);
  bool wants(const std::string& name, int layer) const;
  // Where the data handed to put() lives: the forward pass sets it to its Exec's device and
  // stream. CUDA data is copied to the host (after the stream's work) only when wanted.
  void set_source(Device device, void* stream) { device_ = device, stream_ = stream; }
  // Records rows x cols f32 (a forward may call it several times for one key: rows append).
  void put(const std::string& name, int layer, const float* data, int64_t rows, int64_t cols);
  void write(const std::filesystem::path& dir) const;
  struct Entry {
    int64_t rows = 0, cols = 0;
    std::vector<float> data;
  };
  const std::map<std::pair<std::string, int>, Entry>& entries() const { return entries_; }

 private:
  std::vector<DumpRequest> requests_;
  Device device_ = Device::kCPU;
  void* stream_ = nullptr;
  std::map<std::pair<std::string, int>, Entry> entries_;
};

// Convenience for layer code: no-op when sink is null or does not want it.
inline void dump(DumpSink* sink, const char* name, int layer, const float* data, int64_t rows,
                 int64_t cols) {
  if (sink && sink->wants(name, layer)) sink->put(name, layer, data, rows, cols);
}

}  // namespace gossamer::worker
