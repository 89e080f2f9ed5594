#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace gossamer::kernels::cpu {

// See kernels/router.h: top-k descending (ties: lower index), softmax over those k.
void router_topk_softmax(ThreadPool& pool, const float* logits /*[n, n_experts]*/, int64_t n,
                         int n_experts, int k, int32_t* experts /*[n, k]*/,
                         float* weights /*[n, k]*/);

}  // namespace gossamer::kernels::cpu
