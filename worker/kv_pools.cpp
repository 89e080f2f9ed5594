#include "worker/kv_pools.h"

#include <algorithm>

#include "core/error.h"

namespace gossamer::worker {

int64_t first_visible_block(int64_t start, int window, int block_size) {
  if (window <= 0) return 0;
  return std::max<int64_t>(0, start - window + 1) / block_size;
}

int64_t window_blocks_needed(int window, int block_size, int64_t sequences, int64_t step_tokens) {
  if (window <= 0) return 0;
  // A chunk [s, s + n) sees blocks floor((s - W + 1) / bs) .. floor((s + n - 1) / bs): at most
  // (W - 2 + n) / bs + 2 of them. Summed over the sequences of a step, n adds up to step_tokens.
  return sequences * ((window - 2 + block_size - 1) / block_size + 2) +
         (step_tokens + block_size - 1) / block_size;
}

KvPoolSizes resolve_kv_pool_sizes(const model::ModelConfig& config, int block_size, int full_blocks,
                                  int window_blocks, int64_t max_sequences, int64_t max_step_tokens) {
  GOSSAMER_CHECK(block_size > 0 && full_blocks > 0, "KV block size and block count must be > 0");
  KvPoolSizes sizes;
  sizes.block_size = block_size;
  sizes.full_blocks = full_blocks;
  bool sliding = false;
  for (int l = 0; l < config.num_hidden_layers; ++l) sliding |= config.is_sliding(l);
  if (!sliding) return sizes;
  sizes.window = config.sliding_window;
  if (window_blocks > 0) {
    sizes.window_blocks = window_blocks;
  } else {
    const int64_t bound = window_blocks_needed(sizes.window, block_size, max_sequences, max_step_tokens);
    sizes.window_blocks = static_cast<int>(std::min<int64_t>(bound + bound / 4, full_blocks));
  }
  return sizes;
}

KvPools::KvPools(const KvPoolSizes& sizes, bool prefix_cache)
    : sizes_(sizes), prefix_cache_(prefix_cache), full_(sizes.full_blocks, sizes.block_size) {
  if (sizes.window > 0) {
    GOSSAMER_CHECK(sizes.window_blocks > 0, "a model with sliding-window layers needs window KV blocks");
    window_.emplace(sizes.window_blocks, sizes.block_size);
  }
}

int64_t KvPools::take_prefix(std::span<const int32_t> tokens, SequenceKv& s) {
  GOSSAMER_CHECK(s.empty(), "take_prefix on a sequence that already holds blocks");
  if (!prefix_cache_ || tokens.empty()) return 0;
  const int bs = sizes_.block_size;
  const auto usable = static_cast<size_t>((static_cast<int64_t>(tokens.size()) - 1) / bs);
  auto hashes = full_.block_hashes(tokens, usable);
  size_t h = 0;
  while (h < hashes.size() && full_.contains(hashes[h])) ++h;
  if (window_) {
    // The longest prefix whose still-visible window blocks are cached too.
    for (; h > 0; --h) {
      const auto first = static_cast<size_t>(first_visible_block(static_cast<int64_t>(h) * bs, sizes_.window, bs));
      bool all = true;
      for (size_t b = first; b < h && all; ++b) all = window_->contains(hashes[b]);
      if (all) break;
    }
  }
  if (h == 0) return 0;
  for (size_t b = 0; b < h; ++b) s.full.push_back(full_.take(hashes[b]));
  if (window_) {
    s.window_begin = first_visible_block(static_cast<int64_t>(h) * bs, sizes_.window, bs);
    s.window.assign(static_cast<size_t>(s.window_begin), kNoBlock);
    for (size_t b = static_cast<size_t>(s.window_begin); b < h; ++b) s.window.push_back(window_->take(hashes[b]));
  }
  s.hashes.assign(hashes.begin(), hashes.begin() + static_cast<ptrdiff_t>(h));
  return static_cast<int64_t>(h) * bs;
}

void KvPools::drop_invisible(SequenceKv& s, int64_t start) {
  if (!window_) return;
  const int64_t first = std::min<int64_t>(first_visible_block(start, sizes_.window, sizes_.block_size),
                                          static_cast<int64_t>(s.window.size()));
  for (; s.window_begin < first; ++s.window_begin) {
    auto& entry = s.window[static_cast<size_t>(s.window_begin)];
    window_->release(entry);
    entry = kNoBlock;
  }
}

bool KvPools::reserve(SequenceKv& s, int64_t start, int64_t end) {
  GOSSAMER_CHECK(start >= 0 && end >= start, "reserve [{}, {})", start, end);
  drop_invisible(s, start);
  const int64_t need = blocks_covering(end, sizes_.block_size);
  const int64_t more = need - static_cast<int64_t>(s.full.size());
  if (more <= 0) return true;
  if (full_.num_available() < more || (window_ && window_->num_available() < more)) return false;
  GOSSAMER_CHECK(full_.allocate(static_cast<int>(more), s.full), "full KV pool allocation");
  if (window_) GOSSAMER_CHECK(window_->allocate(static_cast<int>(more), s.window), "window KV pool allocation");
  return true;
}

void KvPools::commit(SequenceKv& s, std::span<const int32_t> tokens, int64_t computed) {
  if (!prefix_cache_) return;
  const auto bs = static_cast<size_t>(sizes_.block_size);
  const size_t full_blocks = std::min(static_cast<size_t>(computed) / bs, s.full.size());
  while (s.hashes.size() < full_blocks) {
    const size_t b = s.hashes.size();
    const uint64_t prev = b == 0 ? KvBlocks::kChainSeed : s.hashes.back();
    const uint64_t h = KvBlocks::chain_hash(prev, tokens.subspan(b * bs, bs));
    s.hashes.push_back(h);
    full_.register_full(s.full[b], h);
    if (window_ && s.window[b] != kNoBlock) window_->register_full(s.window[b], h);
  }
}

void KvPools::release(SequenceKv& s) {
  full_.release(s.full);
  if (window_)
    for (size_t b = static_cast<size_t>(s.window_begin); b < s.window.size(); ++b)
      if (s.window[b] != kNoBlock) window_->release(s.window[b]);
  s = SequenceKv{};
}

}  // namespace gossamer::worker
