#pragma once
#include <cstdint>

#include "kernels/rope.h"

namespace gossamer::kernels::ref {

// x[n, heads, head_dim] rotated in place (half-split pairs i, i + d/2), angles and
// cos/sin in double, concentration on both terms (docs/MODEL.md, "RoPE (YaRN)").
void rope_apply(float* x, const int32_t* pos /*[n]*/, int64_t n, int64_t heads,
                const RopeTable& table);

}  // namespace gossamer::kernels::ref
