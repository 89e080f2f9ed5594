#pragma once
// The per-ISA inner kernels of the dense linear (kernels/cpu/linear.cpp is the driver:
// it packs x, splits rows across threads and picks the ISA).
//
// This header is included by translation units compiled with AVX-512 flags, so it holds
// only plain data and declarations: an inline function defined here could be emitted by
// an AVX-512 unit and then picked by the linker for AVX2-only callers.
#include <cstdint>

namespace gossamer::kernels::cpu {

// bf16 weights are read a 32-bit lane at a time: lane j holds w[2j] (low half) and w[2j+1]
// (high half). `lane << 16` and `lane & 0xffff0000` are then exactly those two weights as
// f32, one instruction each, with no shuffle. x is packed to match: per block of
// 2 x (lanes per vector) inputs, first the even-indexed values, then the odd ones, zero
// padded to a whole block.
inline constexpr int64_t kAvx2PairBlock = 16;    // 8 lanes x 2
inline constexpr int64_t kAvx512PairBlock = 32;  // 16 lanes x 2 = one 64-byte line of bf16
// The dpbf16ps kernel (Precision::kFast) needs no pairs layout: x is rounded to bf16 in
// natural order, rows padded with zeros to a whole 64-byte line.
inline constexpr int64_t kAvx512Bf16Block = 32;

// y[t, r] = W[r, :] · x[t, :] + bias[r] for t in [0, n) and a range of rows r.
struct DenseRows {
  float* y = nullptr;          // [n, y_stride]
  int64_t y_stride = 0;        // = out
  const float* x = nullptr;    // bf16 kernels: packed [n, x_stride] (see above); f32: plain
  const uint16_t* xb = nullptr;  // dpbf16ps kernel: x rounded to bf16 [n, x_stride]
  const uint16_t* xh = nullptr;  // fp16 kernel: x scaled per row and rounded to fp16 [n, x_stride]
  const float* x_unscale = nullptr;  // fp16 kernel: [n], undoes each row's power-of-two scale
  int64_t x_stride = 0;
  const void* w = nullptr;     // row r at w + r * w_stride elements
  int64_t w_stride = 0;
  int64_t in = 0, n = 0;
  const float* bias = nullptr;  // [out] or null
};

// x[n, in] -> the pairs layout above (block = kAvx2PairBlock or kAvx512PairBlock), rows
// xp_stride apart (in rounded up to a whole block; the padding is zeroed).
void pack_pairs(const float* x, int64_t n, int64_t in, int64_t block, float* xp, int64_t xp_stride);

void dense_bf16_rows_avx2(const DenseRows& job, int64_t row_begin, int64_t row_end);
void dense_f32_rows_avx2(const DenseRows& job, int64_t row_begin, int64_t row_end);
// Only call when isa_supported(Isa::kAvx512, ...) (kernels/cpu/isa.h).
void dense_bf16_rows_avx512(const DenseRows& job, int64_t row_begin, int64_t row_end);
// Only call when the CPU also has avx512_bf16: x (job.xb) in bf16, see dense_bf16_dp.cpp.
void dense_bf16_dp_rows_avx512(const DenseRows& job, int64_t row_begin, int64_t row_end);
// Only call when the CPU also has avx512_fp16 (Precision::kFast, n > fast_dp_max_tokens()):
// x in fp16 (job.xh, job.x_unscale), weights converted per tile, see dense_fp16.cpp.
void dense_fp16_rows_avx512(const DenseRows& job, int64_t row_begin, int64_t row_end);
// x[n, in] f32 -> xh[n, xh_stride] fp16, each row scaled by a power of two so its largest
// |x| lies in [0.5, 1) (unscale[t] = the inverse), padding zeroed. avx512_fp16 only.
void round_rows_fp16_avx512(const float* x, int64_t n, int64_t in, uint16_t* xh, int64_t xh_stride, float* unscale);
// x[n, in] f32 -> xb[n, xb_stride] bf16 (round to nearest even), padding zeroed.
void round_rows_bf16_avx512(const float* x, int64_t n, int64_t in, uint16_t* xb, int64_t xb_stride);

}  // namespace gossamer::kernels::cpu
