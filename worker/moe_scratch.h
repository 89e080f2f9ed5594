#pragma once
// Every buffer one MoE layer needs during a step, sized once from the most tokens a step
// may carry (ExecutorOptions::max_step_tokens) and shared by all MoE layers of a rank
// (they run one after another). Nothing is allocated inside a step. The arrays are left
// uninitialized, so pages the steps never reach (the EP-only buffers on one rank, the tail
// past the usual step size) cost address space, not memory.
#include <cstdint>
#include <memory>

#include "model/config.h"

namespace gossamer::worker {

template <typename T>
class ScratchArray {
 public:
  explicit ScratchArray(int64_t n) : data_(new T[static_cast<size_t>(n > 0 ? n : 1)]), size_(n) {}
  T* data() const { return data_.get(); }
  int64_t size() const { return size_; }

 private:
  std::unique_ptr<T[]> data_;  // new T[n]: default-initialized, i.e. untouched
  int64_t size_;
};

struct MoeScratch {
  // max_tokens: tokens of one step on this rank; ep_size: ranks of the EP group (1 = none).
  MoeScratch(const model::ModelConfig& config, int64_t max_tokens, int ep_size);

  int64_t max_tokens;   // per rank and step
  int64_t max_pairs;    // max_tokens * k: (token, slot) pairs of this rank
  int64_t group_pairs;  // max_pairs * ep_size: rows an expert rank may receive in one step

  // Routing of this rank's tokens.
  ScratchArray<float> h, logits, weights, sum;  // [T, H], [T, E], [P], [T, H]
  ScratchArray<int32_t> experts;                // [P]
  ScratchArray<float> slot_out;                 // [P, H] per-pair outputs (EP paths)
  // The local experts' rows (from this rank or, with EP, from the whole group).
  ScratchArray<int64_t> offsets;                // [E + 1]
  ScratchArray<int32_t> row_token, pair_row;    // [Pg]
  ScratchArray<float> act, expert_out;          // [Pg, I], [Pg, H]
  // EP dispatch: rows and ids received from the group, per-pair results sent back.
  ScratchArray<float> peer_rows, pair_out;      // [Pg, H]
  ScratchArray<int32_t> peer_ids;               // [Pg]
  // All-to-all send side: this rank's pairs ordered by destination expert.
  ScratchArray<int64_t> send_offsets;           // [E + 1]
  ScratchArray<int32_t> send_token, send_pair_row, send_ids;  // [P]
  ScratchArray<float> send_rows;                // [P, H]
};

}  // namespace gossamer::worker
