// AVX512-FP16 kernel of the bf16 dense linear for prefill-sized batches in Precision::kFast
// (n >= 32, kernels/cpu/linear.h: linear_fast_uses_fp16). Compiled with -mavx512fp16 (this file
// only: CMakeLists.txt) and called only when kernels/cpu/isa.h found avx512_fp16.
//
// Why fp16: in prefill the dense projections are compute-bound, and on the CPU measured
// (docs/PERFORMANCE.md) vfmadd231ph does 32 multiply-adds per instruction at the rate
// vfmadd231ps does 16 (5.4 G/s per vCPU each), where vdpbf16ps issues on one port only. The weights stay bf16 in
// memory; each thread converts a tile of rows to fp16 once per call and every token group
// reuses it from L2, so the conversion is spread over all n tokens.
//
// Range and rounding (the fast tier, tests/kernels/test_linear_fp16.cpp):
//  * every weight row is scaled by a power of two so its largest |w| lies in [2^8, 2^9),
//    and every input row so its largest |x| lies in [0.5, 1): the conversions to fp16 are
//    then exact for the weights within 2^-22 of their row's largest (bf16 has 8 significant
//    bits, fp16 11), smaller weights become zero, and x rounds to 11 bits;
//  * a product is at most 2^9 and each fp16 accumulator takes 32 products before it is
//    added into f32 (kFlushLines), so no partial sum reaches 2^14 (fp16 overflows at
//    65504); the f32 sums and the unscaling (a power of two, exact) follow.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include "kernels/cpu/dense_rows.h"

namespace gossamer::kernels::cpu {
namespace {

constexpr int64_t kLine = 32;                    // fp16 inputs per 64-byte line
constexpr int64_t kFlushLines = 32;              // products per fp16 lane before the f32 add
constexpr int64_t kTileBytes = 384 * 1024;       // fp16 rows reused from L2 by every token group
constexpr int kRows = 4, kTokens = 6;            // 24 fp16 accumulators (the f32 sums spill)

// 2^e with e chosen so that m * 2^e lies in [2^(top-1), 2^top) (1 for m == 0 or not finite).
inline float pow2_scale(float m, int top) {
  if (!(m > 0.f) || !std::isfinite(m)) return 1.f;
  int e = 0;
  std::frexp(m, &e);  // m = f * 2^e, f in [0.5, 1)
  // (capped: a row of tiny subnormals must not get an infinite scale)
  return std::ldexp(1.f, top - e < 100 ? top - e : 100);
}

// Lanes [0, left) of a 16-lane step (all for left >= 16, none for left <= 0).
inline __mmask16 tail_mask(int64_t left) {
  return left >= 16 ? __mmask16(0xffff) : left > 0 ? __mmask16((1u << left) - 1) : __mmask16(0);
}

// One row of `in` values into dst as fp16 (`stride` halves, zero padded), scaled by the
// power of two that puts its largest |value| in [2^(top-1), 2^top); returns the inverse
// of that scale. load(c, mask) gives values c .. c+15 as f32 (masked-off lanes 0).
template <class Load>
inline float scaled_row_to_fp16(Load load, int64_t in, int64_t stride, int top, uint16_t* dst) {
  __m512 amax = _mm512_setzero_ps();
  for (int64_t c = 0; c < in; c += 16) amax = _mm512_max_ps(amax, _mm512_abs_ps(load(c, tail_mask(in - c))));
  const float s = pow2_scale(_mm512_reduce_max_ps(amax), top);
  const __m512 sv = _mm512_set1_ps(s);
  for (int64_t c = 0; c < stride; c += 16)
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + c),
                        _mm512_cvtps_ph(_mm512_mul_ps(load(c, tail_mask(in - c)), sv),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC));
  return 1.f / s;
}

// One bf16 weight row into fp16 tile bits by integer operations on 32 values per vector,
// scaled by 2^(135 - e) where e is the row's largest exponent field (largest |w| lands in
// [2^8, 2^9), as scaled_row_to_fp16 with top 9 would put it): subtracting (e - 23) from
// each exponent field and shifting the 7 mantissa bits up by 3 is the exact fp16 of the
// scaled value for every exponent that stays >= 1; smaller values (below 2^-22 of the
// row's largest, and bf16 zeros and subnormals) become zero. About 7 instructions per 32
// weights where the float route (widen, scale, convert, in two passes) takes ~22: at 16
// tokens the conversion no longer costs more than the multiply-adds it feeds.
// Rows holding inf or NaN (exponent field 255) take the float route, which keeps them.
// Returns the inverse of the scale.
float bf16_row_to_fp16(const uint16_t* src, int64_t in, int64_t stride, uint16_t* dst) {
  const __m512i magnitude = _mm512_set1_epi16(0x7fff);
  __m512i top = _mm512_setzero_si512();
  for (int64_t c = 0; c < in; c += 32) {
    const __mmask32 mk = in - c >= 32 ? ~__mmask32(0) : (__mmask32(1) << (in - c)) - 1;
    top = _mm512_max_epu16(top, _mm512_and_si512(_mm512_maskz_loadu_epi16(mk, src + c), magnitude));
  }
  top = _mm512_max_epu32(_mm512_and_si512(top, _mm512_set1_epi32(0xffff)), _mm512_srli_epi32(top, 16));
  const int e = static_cast<int>(_mm512_reduce_max_epu32(top) >> 7);
  if (e == 255) {
    auto load_bf16 = [src](int64_t c, __mmask16 mk) {
      return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(_mm256_maskz_loadu_epi16(mk, src + c)), 16));
    };
    return scaled_row_to_fp16(load_bf16, in, stride, 9, dst);
  }
  // Exponent fields below `lowest` would fall to 0 or below (fp16 subnormal): flushed.
  const int lowest = e - 22 > 1 ? e - 22 : 1;
  const __m512i keep_from = _mm512_set1_epi16(static_cast<int16_t>(lowest << 7));
  const __m512i shift = _mm512_set1_epi16(static_cast<int16_t>((e - 23) * 128));
  const __m512i sign = _mm512_set1_epi16(static_cast<int16_t>(0x8000));
  for (int64_t c = 0; c < stride; c += 32) {
    const __mmask32 mk = in - c >= 32 ? ~__mmask32(0) : in > c ? (__mmask32(1) << (in - c)) - 1 : 0;
    const __m512i v = _mm512_maskz_loadu_epi16(mk, src + c);
    const __m512i mag = _mm512_and_si512(v, magnitude);
    const __mmask32 kept = _mm512_cmpge_epu16_mask(mag, keep_from);
    const __m512i h = _mm512_slli_epi16(_mm512_maskz_sub_epi16(kept, mag, shift), 3);
    // h | (v & sign): a flushed value keeps only its sign (a signed zero).
    _mm512_storeu_si512(dst + c, _mm512_ternarylogic_epi32(h, v, sign, 0xf8));
  }
  return e == 0 ? 0.f : std::ldexp(1.f, e - 135);
}

// Rows [r0, r0 + rows) of the bf16 weights into fp16 tile rows of `stride` halves (zero
// padded), each scaled by a power of two (largest |w| in [2^8, 2^9)); inv[i] the inverse.
void convert_tile(const uint16_t* w, int64_t ws, int64_t in, int64_t r0, int64_t rows, int64_t stride,
                  uint16_t* tile, float* inv) {
  for (int64_t i = 0; i < rows; ++i) inv[i] = bf16_row_to_fp16(w + (r0 + i) * ws, in, stride, tile + i * stride);
}

// R tile rows x T tokens over all inputs; y[t * ys + r] = unscaled sum + bias.
template <int R, int T>
void micro(const uint16_t* tile, int64_t stride, const uint16_t* x, int64_t xs, const float* winv,
           const float* xinv, float* y, int64_t ys, const float* bias) {
  __m512 acc[R][T][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t][0] = acc[r][t][1] = _mm512_setzero_ps();
  for (int64_t c0 = 0; c0 < stride; c0 += kLine * kFlushLines) {
    const int64_t c1 = c0 + kLine * kFlushLines < stride ? c0 + kLine * kFlushLines : stride;
    __m512h h[R][T];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) h[r][t] = _mm512_setzero_ph();
    for (int64_t c = c0; c < c1; c += kLine) {
      __m512h wv[R];
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) wv[r] = _mm512_castsi512_ph(_mm512_loadu_si512(tile + r * stride + c));
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m512h xv = _mm512_castsi512_ph(_mm512_loadu_si512(x + t * xs + c));
#pragma GCC unroll 8
        for (int r = 0; r < R; ++r) h[r][t] = _mm512_fmadd_ph(wv[r], xv, h[r][t]);
      }
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const __m512i bits = _mm512_castph_si512(h[r][t]);
        acc[r][t][0] = _mm512_add_ps(acc[r][t][0], _mm512_cvtxph_ps(_mm256_castsi256_ph(_mm512_castsi512_si256(bits))));
        acc[r][t][1] = _mm512_add_ps(acc[r][t][1],
                                     _mm512_cvtxph_ps(_mm256_castsi256_ph(_mm512_extracti64x4_epi64(bits, 1))));
      }
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
      y[t * ys + r] = _mm512_reduce_add_ps(_mm512_add_ps(acc[r][t][0], acc[r][t][1])) * (winv[r] * xinv[t]) +
                      (bias ? bias[r] : 0.f);
}

template <int T>
void rows_x_tokens(const uint16_t* tile, int64_t stride, int64_t rows, const DenseRows& j, int64_t t0,
                   const float* winv, float* y, const float* bias) {
  const auto* x = static_cast<const uint16_t*>(j.xh) + t0 * j.x_stride;
  const float* xinv = j.x_unscale + t0;
  float* yt = y + t0 * j.y_stride;
  int64_t r = 0;
  for (; r + kRows <= rows; r += kRows)
    micro<kRows, T>(tile + r * stride, stride, x, j.x_stride, winv + r, xinv, yt + r, j.y_stride, bias ? bias + r : nullptr);
  for (; r < rows; ++r)
    micro<1, T>(tile + r * stride, stride, x, j.x_stride, winv + r, xinv, yt + r, j.y_stride, bias ? bias + r : nullptr);
}

}  // namespace

void round_rows_fp16_avx512(const float* x, int64_t n, int64_t in, uint16_t* xh, int64_t xh_stride, float* unscale) {
  for (int64_t t = 0; t < n; ++t) {
    const float* src = x + t * in;
    auto load_f32 = [src](int64_t c, __mmask16 mk) { return _mm512_maskz_loadu_ps(mk, src + c); };
    unscale[t] = scaled_row_to_fp16(load_f32, in, xh_stride, 0, xh + t * xh_stride);
  }
}

void dense_fp16_rows_avx512(const DenseRows& j, int64_t row_begin, int64_t row_end) {
  const int64_t stride = j.x_stride;  // fp16 tile rows padded like x
  thread_local std::vector<uint16_t> tile;
  thread_local std::vector<float> winv;
  int64_t tile_rows = kTileBytes / (stride * 2);
  tile_rows = tile_rows < kRows ? kRows : tile_rows / kRows * kRows;
  if (tile.size() < size_t(tile_rows * stride)) tile.resize(size_t(tile_rows * stride));
  if (winv.size() < size_t(tile_rows)) winv.resize(size_t(tile_rows));
  const auto* w = static_cast<const uint16_t*>(j.w);
  for (int64_t r0 = row_begin; r0 < row_end; r0 += tile_rows) {
    const int64_t rows = row_end - r0 < tile_rows ? row_end - r0 : tile_rows;
    convert_tile(w, j.w_stride, j.in, r0, rows, stride, tile.data(), winv.data());
    float* y = j.y + r0;
    const float* bias = j.bias ? j.bias + r0 : nullptr;
    int64_t t0 = 0;
    for (; t0 + kTokens <= j.n; t0 += kTokens) rows_x_tokens<kTokens>(tile.data(), stride, rows, j, t0, winv.data(), y, bias);
    switch (j.n - t0) {
      case 1: rows_x_tokens<1>(tile.data(), stride, rows, j, t0, winv.data(), y, bias); break;
      case 2: rows_x_tokens<2>(tile.data(), stride, rows, j, t0, winv.data(), y, bias); break;
      case 3: rows_x_tokens<3>(tile.data(), stride, rows, j, t0, winv.data(), y, bias); break;
      case 4: rows_x_tokens<4>(tile.data(), stride, rows, j, t0, winv.data(), y, bias); break;
      case 5: rows_x_tokens<5>(tile.data(), stride, rows, j, t0, winv.data(), y, bias); break;
      default: break;
    }
  }
  static_assert(kTokens == 6, "the switch covers the remainders");
}

}  // namespace gossamer::kernels::cpu
