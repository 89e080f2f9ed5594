#pragma once
#include <cstdint>

#include "kernels/moe_permute.h"

namespace gossamer::kernels::cpu {

// See kernels/moe_permute.h. The counting sort is serial (n*k small integers); the row
// gather runs on the pool.
int64_t moe_permute(ThreadPool& pool, const int32_t* experts, int64_t n, int k, ExpertRange local,
                    const MoePermutation& out, const float* x, int64_t H);

}  // namespace gossamer::kernels::cpu
