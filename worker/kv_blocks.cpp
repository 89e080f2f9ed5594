#include "worker/kv_blocks.h"

#include "core/error.h"

namespace gossamer::worker {

KvBlocks::KvBlocks(int num_blocks, int block_size)
    : block_size_(block_size),
      refs_(static_cast<size_t>(num_blocks), 0),
      hash_of_(static_cast<size_t>(num_blocks), 0),
      cached_(static_cast<size_t>(num_blocks), false),
      lru_pos_(static_cast<size_t>(num_blocks)),
      in_lru_(static_cast<size_t>(num_blocks), false) {
  GOSSAMER_CHECK(num_blocks > 0 && block_size > 0, "KV blocks and block size must be > 0");
  // Hand out low ids first (pop_back), which keeps small tests readable.
  for (int b = num_blocks - 1; b >= 0; --b) free_.push_back(b);
}

uint64_t KvBlocks::chain_hash(uint64_t prev, std::span<const int32_t> block) {
  uint64_t h = prev;  // FNV-1a 64 over the ids' bytes, chained across blocks
  for (int32_t id : block) {
    const auto v = static_cast<uint32_t>(id);
    for (int k = 0; k < 4; ++k) {
      h ^= (v >> (8 * k)) & 0xff;
      h *= 1099511628211ull;
    }
  }
  return h;
}

std::vector<uint64_t> KvBlocks::block_hashes(std::span<const int32_t> tokens, size_t max_blocks) const {
  std::vector<uint64_t> out;
  uint64_t h = kChainSeed;
  const auto bs = static_cast<size_t>(block_size_);
  for (size_t b = 0; b < tokens.size() / bs && b < max_blocks; ++b) {
    h = chain_hash(h, tokens.subspan(b * bs, bs));
    out.push_back(h);
  }
  return out;
}

int32_t KvBlocks::take(uint64_t hash) {
  auto it = by_hash_.find(hash);
  GOSSAMER_CHECK(it != by_hash_.end(), "KV block with hash {:#x} is not cached", hash);
  const int32_t b = it->second;
  if (in_lru_[static_cast<size_t>(b)]) {
    lru_.erase(lru_pos_[static_cast<size_t>(b)]);
    in_lru_[static_cast<size_t>(b)] = false;
  }
  ++refs_[static_cast<size_t>(b)];
  ++hits_;
  return b;
}

void KvBlocks::forget(int32_t block) {
  const auto b = static_cast<size_t>(block);
  if (!cached_[b]) return;
  auto it = by_hash_.find(hash_of_[b]);
  if (it != by_hash_.end() && it->second == block) by_hash_.erase(it);
  cached_[b] = false;
}

bool KvBlocks::allocate(int n, std::vector<int32_t>& table) {
  if (n <= 0) return true;
  if (num_available() < n) return false;
  for (int i = 0; i < n; ++i) {
    int32_t b;
    if (!free_.empty()) {
      b = free_.back();
      free_.pop_back();
    } else {  // evict the least recently released cached block
      b = lru_.front();
      lru_.pop_front();
      in_lru_[static_cast<size_t>(b)] = false;
      forget(b);
    }
    refs_[static_cast<size_t>(b)] = 1;
    table.push_back(b);
  }
  return true;
}

void KvBlocks::register_full(int32_t block, uint64_t hash) {
  const auto b = static_cast<size_t>(block);
  if (cached_[b] || by_hash_.count(hash)) return;
  by_hash_[hash] = block;
  hash_of_[b] = hash;
  cached_[b] = true;
}

void KvBlocks::release(std::span<const int32_t> table) {
  for (int32_t block : table) release(block);
}

void KvBlocks::release(int32_t block) {
  GOSSAMER_CHECK(block >= 0 && block < num_total(), "KV block {} out of range", block);
  const auto b = static_cast<size_t>(block);
  GOSSAMER_CHECK(refs_[b] > 0, "KV block {} released more often than taken", block);
  if (--refs_[b] > 0) return;
  if (cached_[b]) {
    lru_.push_back(block);
    lru_pos_[b] = std::prev(lru_.end());
    in_lru_[b] = true;
  } else {
    free_.push_back(block);
  }
}

}  // namespace gossamer::worker
