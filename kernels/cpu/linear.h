#pragma once
#include <cstdint>

#include "kernels/cpu/isa.h"
#include "kernels/linear.h"

namespace gossamer::kernels::cpu {

// y[n, out] = x[n, in] · W[out, in]ᵀ + bias; W bf16 or f32, f32 accumulation, on the
// process-wide ISA path (active_isa()).
// Precision::kFast with bf16 weights, n <= fast_dp_max_tokens(), on a CPU with avx512_bf16
// (and the avx512 path): x is rounded to bf16 once per call and the products go through
// dpbf16ps. Every other case runs the exact kernel: the AVX2 path has no bf16 dot product
// (widening bf16 x back to f32 would only add work), f32 weights have no bf16 pairs, and
// for more tokens the exact FMA kernel was faster on the machine this was tuned on (see
// kernels/cpu/avx512/dense_bf16_dp.cpp). Prefill-sized n (>= 32) in kFast on a CPU with avx512_fp16: x is
// scaled per row and rounded to fp16, the weights are converted to fp16 per tile, and
// vfmadd231ph does the products (kernels/cpu/avx512/dense_fp16.cpp; linear_fast_uses_fp16).
void linear(ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w,
            const float* bias /*[out] or null*/, Precision precision = Precision::kExact);

// The same on an explicit path (tests and benchmarks compare the paths in one process).
// Throws kUnsupported when this CPU cannot run `isa`.
void linear_with_isa(Isa isa, ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w,
                     const float* bias, Precision precision = Precision::kExact);

// The most tokens for which kFast uses dpbf16ps: 3 (decode) unless the environment sets
// GOSSAMER_DENSE_DP_MAX_TOKENS (e.g. on a CPU that issues vdpbf16ps zmm on two ports, where
// it beats the FMA kernel for prefill too). Tests and benchmarks may set it.
int64_t fast_dp_max_tokens();
void set_fast_dp_max_tokens(int64_t n);

// Does linear_with_isa(isa, ..., n, bf16 weights, ..., kFast) round x to bf16 on this CPU?
bool linear_fast_rounds_x(Isa isa, int64_t n);
// ... or take the fp16 kernel (n >= 32 and > fast_dp_max_tokens(), avx512_fp16)?
bool linear_fast_uses_fp16(Isa isa, int64_t n);

// out[n, dim] = f32(table[ids[i], :])
void embedding_lookup(ThreadPool& pool, float* out, const DenseWeight& table,
                      const int32_t* ids /*[n]*/, int64_t n);

}  // namespace gossamer::kernels::cpu
