#include "worker/batch.h"

#include "core/error.h"

namespace gossamer::worker {

void ForwardBatch::add(int64_t seq_id, const int32_t* ids, int32_t count, int32_t start_pos,
                       const int32_t* block_table, const int32_t* window_block_table,
                       bool all_logits) {
  GOSSAMER_CHECK(block_size > 0 && block_table != nullptr, "ForwardBatch::add needs a block size and a table");
  SequenceChunk c;
  c.seq_id = seq_id;
  c.first = static_cast<int32_t>(tokens.size());
  c.count = count;
  c.start_pos = start_pos;
  c.block_table = block_table;
  c.window_block_table = window_block_table;
  c.all_logits = all_logits;
  for (int32_t i = 0; i < count; ++i) {
    tokens.push_back(ids[i]);
    positions.push_back(start_pos + i);
  }
  if (all_logits)
    for (int32_t i = 0; i < count; ++i) logit_rows.push_back(c.first + i);
  else if (count > 0)
    logit_rows.push_back(c.first + count - 1);
  seqs.push_back(c);
  seq_offsets.push_back(static_cast<int32_t>(tokens.size()));
  // A mix of chunks with and without window tables leaves the two lengths different,
  // which has_window_tables() reports.
  const int32_t blocks = (start_pos + count + block_size - 1) / block_size;
  full_block_tables.insert(full_block_tables.end(), block_table, block_table + blocks);
  if (window_block_table)
    window_block_tables.insert(window_block_tables.end(), window_block_table, window_block_table + blocks);
  block_table_offsets.push_back(static_cast<int32_t>(full_block_tables.size()));
}

void ForwardBatch::clear() {
  tokens.clear();
  positions.clear();
  seqs.clear();
  seq_offsets.assign(1, 0);
  block_table_offsets.assign(1, 0);
  full_block_tables.clear();
  window_block_tables.clear();
  logit_rows.clear();
}

void ForwardBatch::reserve(int64_t max_tokens, int64_t max_seqs, int64_t max_blocks) {
  tokens.reserve(static_cast<size_t>(max_tokens));
  positions.reserve(static_cast<size_t>(max_tokens));
  seqs.reserve(static_cast<size_t>(max_seqs));
  seq_offsets.reserve(static_cast<size_t>(max_seqs + 1));
  block_table_offsets.reserve(static_cast<size_t>(max_seqs + 1));
  full_block_tables.reserve(static_cast<size_t>(max_blocks));
  window_block_tables.reserve(static_cast<size_t>(max_blocks));
  logit_rows.reserve(static_cast<size_t>(max_tokens));
}

}  // namespace gossamer::worker
