#pragma once
// MoE dispatch bookkeeping: (token, slot) pairs -> rows grouped by local expert, so the
// grouped expert GEMM (kernels/grouped_mxfp4.h) runs every local expert in one call.
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

// The experts this rank computes: global ids [first, first + count).
struct ExpertRange {
  int64_t first = 0;
  int64_t count = 0;
};

// Where permute writes. Every pointer but offsets and row_token may be null (not wanted).
// Capacities: row_token / row_slot hold up to n*k rows, pair_row exactly n*k entries.
struct MoePermutation {
  int64_t* offsets = nullptr;    // [count + 1]: rows of local expert e are offsets[e] .. offsets[e+1]
  int32_t* row_token = nullptr;  // [rows] source token row of each permuted row
  int32_t* row_slot = nullptr;   // [rows] top-k slot of each permuted row
  int32_t* pair_row = nullptr;   // [n*k] permuted row of pair (t, s), -1 when its expert is not local
  float* gathered = nullptr;     // [rows, H] x[row_token[r]] (needs x)
};

// experts [n, k] global ids. Rows are ordered by local expert, then by (token, slot) — a
// stable counting sort, so the order never depends on threads. Pairs whose expert is
// outside `local` are skipped. x [n, H] is read only when out.gathered is set.
// Returns the number of permuted rows (= offsets[count]).
int64_t moe_permute(const Exec& exec, const int32_t* experts, int64_t n, int k, ExpertRange local,
                    const MoePermutation& out, const float* x = nullptr, int64_t H = 0);

}  // namespace gossamer::kernels
