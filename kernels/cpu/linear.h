#pragma once
#include <cstdint>

#include "kernels/cpu/isa.h"
#include "kernels/linear.h"

namespace gossamer::kernels::cpu {

// y[n, out] = x[n, in] · W[out, in]ᵀ + bias; W bf16 or f32, f32 accumulation, on the
// process-wide ISA path (active_isa()).
// Precision::kFast with bf16 weights on a CPU with avx512_bf16 (and the avx512 path):
// x is rounded to bf16 once per call and the products go through dpbf16ps. Every other
// case (the AVX2 path, CPUs without avx512_bf16, f32 weights) runs the exact kernel: on
// AVX2 there is no bf16 dot product, and widening bf16 x back to f32 would only add work.
void linear(ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w,
            const float* bias /*[out] or null*/, Precision precision = Precision::kExact);

// The same on an explicit path (tests and benchmarks compare the paths in one process).
// Throws kUnsupported when this CPU cannot run `isa`.
void linear_with_isa(Isa isa, ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w,
                     const float* bias, Precision precision = Precision::kExact);

// Does linear_with_isa(isa, ..., kFast) round x to bf16 for bf16 weights on this CPU?
bool linear_fast_rounds_x(Isa isa);

// out[n, dim] = f32(table[ids[i], :])
void embedding_lookup(ThreadPool& pool, float* out, const DenseWeight& table,
                      const int32_t* ids /*[n]*/, int64_t n);

}  // namespace gossamer::kernels::cpu
