#include "worker/kv_cache.h"

#include "core/error.h"

namespace gossamer::worker {

KvCache::KvCache(const KvCacheConfig& config) : config_(config) {
  const auto& pools = config.pools;
  if (pools.block_size <= 0)
    GOSSAMER_THROW(kInvalidArgument, "KV cache needs block_size > 0 (got {})", pools.block_size);
  for (bool sliding : config.sliding) {
    const int blocks = sliding ? pools.window_blocks : pools.full_blocks;
    if (blocks <= 0)
      GOSSAMER_THROW(kInvalidArgument, "KV cache: the {} pool needs blocks > 0 (got {})",
                     sliding ? "sliding-window" : "full-attention", blocks);
    Shape shape{blocks, pools.block_size, config.n_kv_heads, config.head_dim};
    k_.emplace_back(DType::kF32, shape, config.device);
    v_.emplace_back(DType::kF32, shape, config.device);
  }
}

kernels::KvCacheView KvCache::view(int layer, const SequenceChunk& seq) const {
  GOSSAMER_CHECK(layer >= 0 && layer < num_layers(), "layer {}", layer);
  const auto l = static_cast<size_t>(layer);
  const int32_t* table = config_.sliding[l] ? seq.window_block_table : seq.block_table;
  GOSSAMER_CHECK(table != nullptr, "sequence {} has no {} block table", seq.seq_id,
                 config_.sliding[l] ? "sliding-window" : "full-attention");
  return kernels::KvCacheView{k_[l].as<float>(), v_[l].as<float>(), config_.pools.block_size, table};
}

size_t KvCache::bytes() const {
  size_t n = 0;
  for (const auto& t : k_) n += 2 * t.view().nbytes();
  return n;
}

}  // namespace gossamer::worker
