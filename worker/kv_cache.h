#pragma once
// Paged KV cache of one rank: for each of its layers, K and V storage
//   [blocks, block_size, n_kv_heads_local, head_dim] f32, or bf16 (`dtype`: CPU ranks in
//   runtime.precision fast; see kv_cache_dtype)
// shared by all sequences. Full-attention layers draw on `pools.full_blocks` blocks,
// sliding-window layers on their own, smaller pool of `pools.window_blocks` (worker/kv_pools.h). Who owns
// which block is decided by whoever plans the steps and reaches the kernels as block tables.
#include <cstdint>
#include <vector>

#include "core/buffer.h"
#include "kernels/attention.h"
#include "worker/batch.h"
#include "worker/kv_pools.h"
#include "worker/step_arrays.h"

namespace gossamer::worker {

struct KvCacheConfig {
  int n_kv_heads = 0;     // KV heads held by this rank
  int head_dim = 0;
  KvPoolSizes pools;      // block size and the blocks of each pool (window ones needed when
                          // any layer is sliding)
  std::vector<bool> sliding;  // per layer held by this rank: uses the window pool
  Device device = Device::kCPU;
  DType dtype = DType::kF32;  // kF32, or kBF16 on the CPU only (kernels/attention.h, PagedKv)
};

// The cache dtype a rank runs with: bf16 for the CPU in fast precision (half the bytes
// the attention kernels stream; the golden bf16 tier covers it), f32 otherwise. CUDA
// keeps f32 in both precisions: its attention kernels read f32 caches only.
DType kv_cache_dtype(Device device, bool fast);

class KvCache {
 public:
  explicit KvCache(const KvCacheConfig& config);
  const KvCacheConfig& config() const { return config_; }
  int num_layers() const { return static_cast<int>(config_.sliding.size()); }
  // Local layer `layer`'s storage and the batch's index arrays with the block tables of the
  // layer's type (window tables for sliding layers): the batched kernels' arguments. Points
  // into `batch`, which must outlive the result.
  struct LayerStep {
    kernels::PagedKv kv;
    kernels::VarlenBatch batch;
  };
  LayerStep layer_step(int layer, const ForwardBatch& batch) const;
  // The same with the index arrays taken from `arrays` (device copies on a GPU, see
  // worker/step_arrays.h); the counts still come from `batch`.
  LayerStep layer_step(int layer, const ForwardBatch& batch, const StepArrays& arrays) const;
  size_t bytes() const;

 private:
  KvCacheConfig config_;
  std::vector<Tensor> k_, v_;
};

}  // namespace gossamer::worker
