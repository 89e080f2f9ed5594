#include "worker/batch.h"

namespace gossamer::worker {

std::vector<int32_t> ForwardBatch::logit_rows() const {
  std::vector<int32_t> rows;
  for (const auto& s : seqs) {
    if (s.all_logits)
      for (int32_t i = 0; i < s.count; ++i) rows.push_back(s.first + i);
    else if (s.count > 0)
      rows.push_back(s.first + s.count - 1);
  }
  return rows;
}

void ForwardBatch::add(int64_t seq_id, const int32_t* ids, int32_t count, int32_t start_pos,
                       const int32_t* block_table, const int32_t* window_block_table,
                       bool all_logits) {
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
  seqs.push_back(c);
}

}  // namespace gossamer::worker
