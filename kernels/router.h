#pragma once
#include <cstdint>

#include "kernels/exec.h"

namespace gossamer::kernels {

// For each of n tokens: the k largest of logits[n, n_experts] in descending order
// (ties: lower expert index first) and the softmax over only those k logits.
void router_topk_softmax(const Exec& exec, const float* logits, int64_t n, int n_experts, int k,
                         int32_t* experts /*[n, k]*/, float* weights /*[n, k]*/);

}  // namespace gossamer::kernels
