#pragma once
#include <cstdint>

#include "core/thread_pool.h"

namespace gossamer::kernels::cpu {

// out[n, I] from interleaved gate_up[n, 2I] (gate even, up odd); see kernels/swiglu.h.
void swiglu_clamped(ThreadPool& pool, float* out, const float* gate_up, int64_t n,
                    int64_t intermediate, float alpha, float limit);

}  // namespace gossamer::kernels::cpu
