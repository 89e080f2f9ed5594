#pragma once
// What one forward step computes: a flat list of tokens from one or more sequences.
// Tokens of a sequence are contiguous and in position order; every dense op runs on the
// flat [n_tokens, H] matrix, attention runs per sequence over its paged KV cache.
#include <cstdint>
#include <vector>

namespace gossamer::worker {

struct SequenceChunk {
  int64_t seq_id = 0;
  int32_t first = 0;       // index of its first token in ForwardBatch::tokens
  int32_t count = 0;       // tokens of this sequence in the batch
  int32_t start_pos = 0;   // position of its first token (tokens before it are cached)
  const int32_t* block_table = nullptr;  // logical -> physical KV block, covers start_pos+count
  // The same for sliding-window layers (kNoBlock where no query of the chunk can see);
  // null when the model has none.
  const int32_t* window_block_table = nullptr;
  bool all_logits = false; // logits for every token (eval-logits) or only the last
};

struct ForwardBatch {
  std::vector<int32_t> tokens;     // [n_tokens]
  std::vector<int32_t> positions;  // [n_tokens]
  std::vector<SequenceChunk> seqs;

  int64_t n_tokens() const { return static_cast<int64_t>(tokens.size()); }
  // Rows of the batch whose logits are wanted, in order (one per seq, or all of a seq's).
  std::vector<int32_t> logit_rows() const;
  // Appends one sequence's chunk; fills positions.
  void add(int64_t seq_id, const int32_t* ids, int32_t count, int32_t start_pos,
           const int32_t* block_table, const int32_t* window_block_table, bool all_logits);
};

}  // namespace gossamer::worker
