#pragma once
#include <cstdint>

#include "core/thread_pool.h"
#include "kernels/rope.h"

namespace gossamer::kernels::cpu {

// x[n, heads, head_dim] rotated in place for positions pos[n].
void rope_apply(ThreadPool& pool, float* x, const int32_t* pos, int64_t n, int64_t heads,
                const RopeTable& table);

}  // namespace gossamer::kernels::cpu
