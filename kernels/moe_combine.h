#pragma once
// The way back from the expert rows (kernels/moe_permute.h) to token order.
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

// out[t, :] = Σ_{s = 0..k-1} weights[t, s] · y[pair_row[t*k + s], :]
// summed from zero in top-k slot order: every parallel layout adds the same numbers in the
// same order, so the result is bit-identical across layouts. pair_row == nullptr means
// y is already [n, k, H] in pair order; a negative pair_row entry contributes nothing.
void moe_combine(const Exec& exec, float* out /*[n, H]*/, const float* y, const int32_t* pair_row,
                 const float* weights /*[n, k]*/, int64_t n, int k, int64_t H);

// out[p, :] = y[pair_row[p], :], or zeros when pair_row[p] < 0, for p < pairs: the
// unweighted per-pair outputs that expert parallelism ships back (or all-reduces).
void moe_unpermute(const Exec& exec, float* out /*[pairs, H]*/, const float* y, const int32_t* pair_row,
                   int64_t pairs, int64_t H);

}  // namespace gossamer::kernels
