#pragma once
#include <cstdint>

#include "kernels/rope.h"

namespace gossamer::kernels::cuda {

// Device pointers x[n, heads, head_dim] and pos[n]; head_dim <= 256.
void rope_apply(void* stream, float* x, const int32_t* pos, int64_t n, int64_t heads,
                const RopeTable& table);

}  // namespace gossamer::kernels::cuda
