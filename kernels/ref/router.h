#pragma once
#include <cstdint>

namespace gossamer::kernels::ref {

// Per token: the k largest logits, descending, ties to the lower expert index; softmax
// over those k only (docs/MODEL.md, "Router").
void router_topk_softmax(const float* logits /*[n, n_experts]*/, int64_t n, int n_experts, int k,
                         int32_t* experts /*[n, k]*/, float* weights /*[n, k]*/);

}  // namespace gossamer::kernels::ref
