#include "worker/kv_cache.h"

#include <algorithm>

#include "core/error.h"

namespace gossamer::worker {

KvCache::KvCache(const KvCacheConfig& config) : config_(config) {
  if (config.num_blocks <= 0 || config.block_size <= 0)
    GOSSAMER_THROW(kInvalidArgument, "KV cache needs num_blocks > 0 and block_size > 0 (got {}, {})",
                   config.num_blocks, config.block_size);
  Shape shape{config.num_blocks, config.block_size, config.n_kv_heads, config.head_dim};
  for (int l = 0; l < config.num_layers; ++l) {
    k_.emplace_back(DType::kF32, shape, config.device);
    v_.emplace_back(DType::kF32, shape, config.device);
  }
}

kernels::KvCacheView KvCache::view(int layer, const int32_t* block_table) const {
  GOSSAMER_CHECK(layer >= 0 && layer < config_.num_layers, "layer {}", layer);
  const auto l = static_cast<size_t>(layer);
  return kernels::KvCacheView{k_[l].as<float>(), v_[l].as<float>(), config_.block_size,
                              block_table};
}

size_t KvCache::bytes() const {
  return 2ull * static_cast<size_t>(config_.num_layers) * static_cast<size_t>(config_.num_blocks) *
         static_cast<size_t>(config_.block_size) * static_cast<size_t>(config_.n_kv_heads) *
         static_cast<size_t>(config_.head_dim) * sizeof(float);
}

}  // namespace gossamer::worker
