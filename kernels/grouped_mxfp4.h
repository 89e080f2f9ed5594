#pragma once
// The expert MLP matmuls of every local expert in one call: rows arrive grouped by expert
// (kernels/moe_permute.h) and group e is multiplied by expert e's MXFP4 matrix. Two
// variants: plain (mlp2, the down projection) and with gpt-oss's clamped SwiGLU fused into
// the epilogue (mlp1, whose output rows interleave gate and linear: row 2i is gate i,
// row 2i+1 is linear i, as kernels/swiglu.h reads them).
#include <cstdint>

#include "kernels/exec.h"
#include "kernels/mxfp4_linear.h"

namespace gossamer::kernels {

// Rows offsets[e] .. offsets[e+1] belong to group (local expert) e. Row r of the input is
// x[row_index[r]] when row_index is set (the permutation's row_token: no gather copy),
// else x[r]. The output is always in permuted row order.
struct ExpertGroups {
  const int64_t* offsets = nullptr;  // [groups + 1], offsets[0] = 0
  int64_t groups = 0;
  const int32_t* row_index = nullptr;
  int64_t rows() const { return offsets[groups]; }
};

// y[r, out] = x_r · W_eᵀ + bias[e]   for every row r of group e.
// weights[groups] share out and in; bias [groups, out] f32 or nullptr.
void grouped_mxfp4_linear(const Exec& exec, float* y, const float* x, const ExpertGroups& groups,
                          const Mxfp4Weight* weights, const float* bias);

// u = x_r · W_eᵀ + bias[e] (out = 2I, interleaved), then
//   gate = min(u[2i], limit); lin = clamp(u[2i+1], -limit, limit)
//   y[r, i] = gate · sigmoid(alpha · gate) · (lin + 1)          y is [rows, I]
void grouped_mxfp4_swiglu(const Exec& exec, float* y, const float* x, const ExpertGroups& groups,
                          const Mxfp4Weight* weights, const float* bias, float alpha, float limit);

}  // namespace gossamer::kernels
