#pragma once
// MoE routing and dispatch on CUDA: top-k router, permute, unpermute, combine
// (kernels/router.h, kernels/moe_permute.h, kernels/moe_combine.h have the contracts).
// All pointers are device pointers.
#include <cstdint>

#include "kernels/moe_permute.h"

namespace gossamer::kernels::cuda {

// k <= 32 (kMaxTopK).
inline constexpr int kMaxTopK = 32;
void router_topk_softmax(void* stream, const float* logits, int64_t n, int n_experts, int k, int32_t* experts,
                         float* weights);

// Same rows and order as the CPU (a stable sort by local expert). Returns the row count,
// which it reads back from the device: the one host synchronisation of the MoE block.
int64_t moe_permute(void* stream, const int32_t* experts, int64_t n, int k, ExpertRange local,
                    const MoePermutation& out, const float* x, int64_t H);

void moe_combine(void* stream, float* out, const float* y, const int32_t* pair_row, const float* weights, int64_t n,
                 int k, int64_t H);
void moe_unpermute(void* stream, float* out, const float* y, const int32_t* pair_row, int64_t pairs, int64_t H);

}  // namespace gossamer::kernels::cuda
