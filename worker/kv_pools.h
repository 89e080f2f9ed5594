#pragma once
// The KV blocks of one DP replica, split by layer type (docs/ARCHITECTURE.md, "KV cache"):
// full-attention layers keep every position, so their block table covers the whole
// sequence; sliding-window layers only ever read the last `window` positions, so their table
// keeps just the blocks a query can still see and hands the older ones back (vLLM's hybrid
// allocator does the same; llama.cpp's SWA cache is the ring-buffer variant). Both tables
// are indexed by the same logical block (position / block_size); dropped window entries
// hold kNoBlock.
//
// Prefix caching spans both pools under the same chain hash (a block's K/V at any layer
// depends on every token up to the block's end). A cached prefix of h blocks is usable only
// when the full pool has blocks 0..h-1 and the window pool has the blocks the first new
// query still sees, so the longest such h is taken.
//
// Thread-safety: none; whoever plans the steps owns it.
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "model/config.h"
#include "worker/kv_blocks.h"

namespace gossamer::worker {

// A window-table entry whose block was handed back (no query can see it any more).
constexpr int32_t kNoBlock = -1;

struct KvPoolSizes {
  int block_size = 16;
  int full_blocks = 0;    // per DP replica, for full-attention layers
  int window_blocks = 0;  // per DP replica, for sliding-window layers (0 when there are none)
  int window = 0;         // sliding window in tokens (0 = the model has no sliding layers)
};

// Blocks that cover positions [0, tokens).
inline int64_t blocks_covering(int64_t tokens, int block_size) { return (tokens + block_size - 1) / block_size; }

// First logical block a query at position >= `start` can still see through a window of
// `window` tokens (0 without a window).
int64_t first_visible_block(int64_t start, int window, int block_size);

// Window-pool blocks that `sequences` sequences can hold at once while one step feeds them
// `step_tokens` tokens in all: a bound used to size the pool.
int64_t window_blocks_needed(int window, int block_size, int64_t sequences, int64_t step_tokens);

// The pools for this model. window_blocks <= 0 sizes the window pool automatically:
// window_blocks_needed(max_sequences, max_step_tokens) plus a quarter (the slack keeps
// recently used window blocks around for the prefix cache), never more than full_blocks (a
// sequence never holds more window blocks than full ones).
KvPoolSizes resolve_kv_pool_sizes(const model::ModelConfig& config, int block_size, int full_blocks,
                                  int window_blocks, int64_t max_sequences, int64_t max_step_tokens);

// One sequence's blocks.
struct SequenceKv {
  std::vector<int32_t> full;     // logical block -> physical, full-attention pool
  std::vector<int32_t> window;   // logical block -> physical, window pool; kNoBlock before
                                 // window_begin. Empty when the model has no sliding layers.
  int64_t window_begin = 0;      // first entry of `window` still held
  std::vector<uint64_t> hashes;  // chain hashes of the computed full blocks (prefix caching)

  size_t blocks() const { return full.size(); }
  bool empty() const { return full.empty() && window.empty(); }
};

class KvPools {
 public:
  KvPools(const KvPoolSizes& sizes, bool prefix_cache);

  // Takes the longest usable cached prefix of `tokens` (never its last token: a step must
  // compute at least one to sample) into the empty `s`. Returns the tokens covered.
  int64_t take_prefix(std::span<const int32_t> tokens, SequenceKv& s);
  // Readies `s` for a step feeding positions [start, end): hands back the window blocks no
  // query at >= start can see, then grows both tables to cover `end`. All or nothing: false
  // (nothing allocated) when either pool is short.
  bool reserve(SequenceKv& s, int64_t start, int64_t end);
  // After a step computed positions up to `computed` of `tokens`: full blocks become
  // shareable through the prefix cache.
  void commit(SequenceKv& s, std::span<const int32_t> tokens, int64_t computed);
  // Hands back every block of `s` and clears it (finished, cancelled or preempted).
  void release(SequenceKv& s);

  const KvPoolSizes& sizes() const { return sizes_; }
  bool has_window() const { return window_.has_value(); }
  const KvBlocks& full() const { return full_; }
  // Only when has_window().
  const KvBlocks& window() const { return *window_; }
  // Blocks a new sequence can get from the full pool (the scarce one).
  int num_available() const { return full_.num_available(); }
  int64_t prefix_hit_blocks() const { return full_.hits(); }

 private:
  void drop_invisible(SequenceKv& s, int64_t start);

  KvPoolSizes sizes_;
  bool prefix_cache_;
  KvBlocks full_;
  std::optional<KvBlocks> window_;
};

}  // namespace gossamer::worker
