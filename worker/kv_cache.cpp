#include "worker/kv_cache.h"

#include <algorithm>

#include "core/error.h"

namespace gossamer::worker {

BlockAllocator::BlockAllocator(int num_blocks) : total_(num_blocks) {
  // Hand out low block ids first (pop from the back).
  for (int i = num_blocks - 1; i >= 0; --i) free_.push_back(i);
}

bool BlockAllocator::allocate(int n, std::vector<int32_t>& table) {
  if (n < 0 || n > num_free()) return false;
  for (int i = 0; i < n; ++i) {
    table.push_back(free_.back());
    free_.pop_back();
  }
  return true;
}

void BlockAllocator::release(const std::vector<int32_t>& table) {
  for (auto it = table.rbegin(); it != table.rend(); ++it) {
    GOSSAMER_CHECK(*it >= 0 && *it < total_, "block {} out of range", *it);
    free_.push_back(*it);
  }
}

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
