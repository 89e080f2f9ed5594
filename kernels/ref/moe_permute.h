#pragma once
#include <cstdint>

#include "kernels/moe_permute.h"

namespace gossamer::kernels::ref {

// Scalar oracle of kernels/moe_permute.h: for each local expert in order, scan every
// (token, slot) pair in order and append the ones routed to it.
int64_t moe_permute(const int32_t* experts, int64_t n, int k, ExpertRange local, const MoePermutation& out,
                    const float* x, int64_t H);

}  // namespace gossamer::kernels::ref
