#pragma once
#include <cstdint>

#include "kernels/cpu/isa.h"
#include "kernels/linear.h"

namespace gossamer::kernels::cpu {

// y[n, out] = x[n, in] · W[out, in]ᵀ + bias; W bf16 or f32, f32 accumulation, on the
// process-wide ISA path (active_isa()).
void linear(ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w,
            const float* bias /*[out] or null*/);

// The same on an explicit path (tests and benchmarks compare the paths in one process).
// Throws kUnsupported when this CPU cannot run `isa`.
void linear_with_isa(Isa isa, ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w,
                     const float* bias);

// out[n, dim] = f32(table[ids[i], :])
void embedding_lookup(ThreadPool& pool, float* out, const DenseWeight& table,
                      const int32_t* ids /*[n]*/, int64_t n);

}  // namespace gossamer::kernels::cpu
