#pragma once
// KV block accounting of one DP replica, as whoever plans steps sees it (the service's
// scheduler, the offline Engine): which block ids are
// free, who holds each block (refcount), and a prefix cache of full blocks keyed by the
// hash of every token id up to the block's end.
//
// Prefix caching (vLLM's "automatic prefix caching"): a block is registered under its chain
// hash only once its content is complete (all block_size positions computed). Another
// sequence whose prompt starts with the same tokens takes the block read-only (refcount + 1)
// and skips computing it; a sequence only ever writes to blocks past its cached prefix, so
// shared blocks are never written. A cached block whose refcount drops to 0 stays cached
// (evictable, LRU) until the free list runs dry.
//
// Thread-safety: none; the step thread owns the scheduler and with it this object.
#include <cstdint>
#include <list>
#include <span>
#include <unordered_map>
#include <vector>

namespace gossamer::worker {

class KvBlocks {
 public:
  KvBlocks(int num_blocks, int block_size);

  // Hashes of the full blocks of `tokens` (chain: each hash covers all tokens up to the end
  // of its block). Only the first `max_blocks` are computed.
  std::vector<uint64_t> block_hashes(std::span<const int32_t> tokens, size_t max_blocks) const;
  // One link of that chain: the hash of a block's ids after the previous block's hash.
  static uint64_t chain_hash(uint64_t prev, std::span<const int32_t> block);
  static constexpr uint64_t kChainSeed = 1469598103934665603ull;

  // Whether a block with this chain hash is cached (taken or evictable).
  bool contains(uint64_t hash) const { return by_hash_.count(hash) != 0; }
  // Takes the cached block with this hash (refcount + 1); the caller checked contains().
  int32_t take(uint64_t hash);
  // Appends n fresh blocks (refcount 1) to `table`; false (and nothing taken) when fewer than
  // n are free or evictable.
  bool allocate(int n, std::vector<int32_t>& table);
  // Registers table[index] as holding the full block with this chain hash (no-op when the
  // hash is already cached by another block).
  void register_full(int32_t block, uint64_t hash);
  // Drops one reference to each block of `table` (a finished, cancelled or preempted sequence).
  void release(std::span<const int32_t> table);
  void release(int32_t block);

  int num_total() const { return static_cast<int>(refs_.size()); }
  // Blocks a new allocation can get: free plus cached-but-unreferenced.
  int num_available() const { return static_cast<int>(free_.size() + lru_.size()); }
  // Blocks referenced by a live sequence.
  int num_used() const { return num_total() - num_available(); }
  int num_cached() const { return static_cast<int>(by_hash_.size()); }
  int block_size() const { return block_size_; }
  int64_t hits() const { return hits_; }  // blocks served from the cache

 private:
  void forget(int32_t block);  // evicts a cached block's hash entry

  int block_size_;
  std::vector<int32_t> free_;                    // never cached (or evicted), refcount 0
  std::vector<int> refs_;                        // per block
  std::vector<uint64_t> hash_of_;                // per block; valid when cached_[b]
  std::vector<bool> cached_;
  std::unordered_map<uint64_t, int32_t> by_hash_;
  std::list<int32_t> lru_;                       // cached blocks with refcount 0, oldest first
  std::vector<std::list<int32_t>::iterator> lru_pos_;
  std::vector<bool> in_lru_;
  int64_t hits_ = 0;
};

}  // namespace gossamer::worker
