#pragma once
// Paged KV cache of one rank: for each of its layers, K and V storage
//   [num_blocks, block_size, n_kv_heads_local, head_dim] f32
// shared by all sequences. Who owns which block is decided by whoever plans the steps
// (worker/kv_blocks.h) and reaches the kernels as a block table.
#include <cstdint>
#include <vector>

#include "core/buffer.h"
#include "kernels/attention.h"

namespace gossamer::worker {

struct KvCacheConfig {
  int num_layers = 0;     // layers held by this rank
  int n_kv_heads = 0;     // KV heads held by this rank
  int head_dim = 0;
  int block_size = 16;    // tokens per block
  int num_blocks = 0;
  Device device = Device::kCPU;
};

class KvCache {
 public:
  explicit KvCache(const KvCacheConfig& config);
  const KvCacheConfig& config() const { return config_; }
  // The view of local layer `layer` for a sequence with this block table.
  kernels::KvCacheView view(int layer, const int32_t* block_table) const;
  size_t bytes() const;
  // Blocks needed to hold `tokens` positions.
  int blocks_for(int64_t tokens) const {
    return static_cast<int>((tokens + config_.block_size - 1) / config_.block_size);
  }

 private:
  KvCacheConfig config_;
  std::vector<Tensor> k_, v_;
};

}  // namespace gossamer::worker
