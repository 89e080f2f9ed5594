#pragma once
// What one forward step computes: a flat list of tokens from one or more sequences.
// Tokens of a sequence are contiguous and in position order; every dense op runs on the
// flat [n_tokens, H] matrix, attention runs once per layer over all sequences through the
// flat index arrays below (the batched kernels of kernels/attention.h).
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
  // Tokens per KV block: add() cuts each sequence's tables to the blocks covering it.
  explicit ForwardBatch(int block_size = 16) : block_size(block_size) {}

  int block_size;
  std::vector<int32_t> tokens;     // [n_tokens]
  std::vector<int32_t> positions;  // [n_tokens]
  std::vector<SequenceChunk> seqs;
  // Flat copies for the batched attention kernels, appended by add():
  std::vector<int32_t> seq_offsets{0};          // [n_seqs + 1]: seq i owns rows [off[i], off[i+1])
  std::vector<int32_t> block_table_offsets{0};  // [n_seqs + 1]: seq i's blocks, in both tables
  std::vector<int32_t> full_block_tables;       // every chunk's full-attention table, concatenated
  std::vector<int32_t> window_block_tables;     // the same for sliding-window tables (when given)
  // Rows whose logits are wanted, in order (a sequence's last row, or all of its rows).
  std::vector<int32_t> logit_rows;

  int64_t n_tokens() const { return static_cast<int64_t>(tokens.size()); }
  int64_t n_seqs() const { return static_cast<int64_t>(seqs.size()); }
  // True when every chunk came with a sliding-window table.
  bool has_window_tables() const { return window_block_tables.size() == full_block_tables.size(); }
  // Appends one sequence's chunk; fills positions and the flat arrays.
  void add(int64_t seq_id, const int32_t* ids, int32_t count, int32_t start_pos,
           const int32_t* block_table, const int32_t* window_block_table, bool all_logits);
  // Empties the batch but keeps every vector's capacity: a batch reused step after step
  // stops allocating once it has seen its largest step.
  void clear();
  void reserve(int64_t max_tokens, int64_t max_seqs, int64_t max_blocks);
};

}  // namespace gossamer::worker
