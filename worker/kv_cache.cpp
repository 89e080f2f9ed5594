#include "worker/kv_cache.h"

#include "core/error.h"

namespace gossamer::worker {

DType kv_cache_dtype(Device device, bool fast) {
  return fast && device == Device::kCPU ? DType::kBF16 : DType::kF32;
}

KvCache::KvCache(const KvCacheConfig& config) : config_(config) {
  if (config.dtype != DType::kF32 && !(config.dtype == DType::kBF16 && config.device == Device::kCPU))
    GOSSAMER_THROW(kUnsupported, "KV cache dtype {} on {} (f32 everywhere, bf16 on the CPU)",
                   dtype_name(config.dtype), device_name(config.device));
  const auto& pools = config.pools;
  if (pools.block_size <= 0)
    GOSSAMER_THROW(kInvalidArgument, "KV cache needs block_size > 0 (got {})", pools.block_size);
  for (bool sliding : config.sliding) {
    const int blocks = sliding ? pools.window_blocks : pools.full_blocks;
    if (blocks <= 0)
      GOSSAMER_THROW(kInvalidArgument, "KV cache: the {} pool needs blocks > 0 (got {})",
                     sliding ? "sliding-window" : "full-attention", blocks);
    Shape shape{blocks, pools.block_size, config.n_kv_heads, config.head_dim};
    k_.emplace_back(config.dtype, shape, config.device);
    v_.emplace_back(config.dtype, shape, config.device);
  }
}

KvCache::LayerStep KvCache::layer_step(int layer, const ForwardBatch& batch) const {
  return layer_step(layer, batch, host_step_arrays(batch));
}

KvCache::LayerStep KvCache::layer_step(int layer, const ForwardBatch& batch, const StepArrays& arrays) const {
  GOSSAMER_CHECK(layer >= 0 && layer < num_layers(), "layer {}", layer);
  const auto l = static_cast<size_t>(layer);
  const bool sliding = config_.sliding[l];
  if (sliding && !batch.has_window_tables())
    GOSSAMER_THROW(kInvalidArgument, "a sequence of the step has no sliding-window block table");
  LayerStep step;
  step.kv = kernels::PagedKv{k_[l].view().data, v_[l].view().data, config_.dtype, k_[l].shape()[0],
                             config_.pools.block_size};
  step.batch.n_tokens = batch.n_tokens();
  step.batch.n_seqs = batch.n_seqs();
  step.batch.positions = arrays.positions;
  step.batch.seq_offsets = arrays.seq_offsets;
  step.batch.block_tables = sliding ? arrays.window_block_tables : arrays.full_block_tables;
  step.batch.block_table_offsets = arrays.block_table_offsets;
  return step;
}

size_t KvCache::bytes() const {
  size_t n = 0;
  for (const auto& t : k_) n += 2 * t.view().nbytes();
  return n;
}

}  // namespace gossamer::worker
