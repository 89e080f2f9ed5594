// AVX512-BF16 kernel of the bf16 dense linear for Precision::kFast: the activations are
// rounded to bf16 once per call and every 64-byte line of a weight row meets the matching
// 32 bf16 inputs in one _mm512_dpbf16ps (16 lanes x 2 products into f32), where the exact
// kernel (dense_bf16.cpp) needs a shift, an AND and two FMAs for the same 32 products.
// bf16 weights sit in memory as pairs (w[2j], w[2j+1]) per 32-bit lane, which is exactly
// the operand layout of dpbf16ps, so neither side is repacked: x only needs the rounding.
// Products of two bf16 are exact in f32; the sums are f32 like the exact kernel's.
//
// The blocking follows dense_bf16.cpp (R rows x T tokens of accumulators, L2 tiles that
// every token group reuses, k-chunks that keep the group's x in L1), with bf16 x being
// half the bytes: a 6-token group of 2880 inputs is 34 KB, so it is still chunked.
// Only called after kernels/cpu/isa.h found AVX-512 F/BW/VL and avx512_bf16.
//
// Measured on the 2.3 GHz Xeon this was tuned on (bench_dense, interleaved with the exact
// kernel): decode shapes stream a little faster (n = 1: +2-4% GB/s, the loop issues fewer
// instructions per line), but from n = 4 on this is ~15% slower than the FMA kernel: there
// vdpbf16ps zmm issues on one port while FMAs use two, so 32 products cost a cycle either
// way. The driver therefore sends only n <= fast_dp_max_tokens() here (kernels/cpu/linear.h).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/dense_rows.h"

namespace gossamer::kernels::cpu {
namespace {

constexpr int64_t kBlock = kAvx512Bf16Block;  // bf16 inputs per 64-byte line
constexpr int64_t kPrefetchBytes = 512;
constexpr int64_t kTileBytes = 512 * 1024;
constexpr int kRowsGemv = 4, kRowsTile = 4, kMaxTokens = 6;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Inputs [c_begin, c_end) of rows r0..r0+R-1 against tokens t0..t0+T-1 (w at row r0, x at
// token t0, y at (t0, r0)); `partial` as in dense_bf16.cpp's micro.
template <int R, int T, bool kPrefetch>
inline void micro(const uint16_t* w, int64_t ws, const uint16_t* x, int64_t xs, int64_t c_begin, int64_t c_end,
                  int64_t in, float* y, int64_t ys, const float* bias, __m512* partial) {
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = partial && c_begin > 0 ? partial[r * T + t] : _mm512_setzero_ps();

  auto block = [&](const __m512i (&lanes)[R], int64_t c) __attribute__((always_inline)) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(x + t * xs + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)lanes[r], xv);
    }
  };

  const int64_t full = min64(c_end, in / kBlock * kBlock);
  int64_t c = c_begin;
  for (; c < full; c += kBlock) {
    __m512i lanes[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const uint16_t* p = w + r * ws + c;
      if constexpr (kPrefetch) _mm_prefetch(reinterpret_cast<const char*>(p) + kPrefetchBytes, _MM_HINT_T0);
      lanes[r] = _mm512_loadu_si512(p);
    }
    block(lanes, c);
  }
  if (c < c_end) {
    // Masked load: missing weights read as +0 and the bf16 x is zero padded, so the
    // padding adds exact zeros (never 0 x NaN).
    const __mmask32 mask = _cvtu32_mask32(uint32_t((uint64_t(1) << (in - c)) - 1));
    __m512i lanes[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) lanes[r] = _mm512_maskz_loadu_epi16(mask, w + r * ws + c);
    block(lanes, c);
  }
  if (partial && c_end < in) {
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) partial[r * T + t] = acc[r][t];
    return;
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) y[t * ys + r] = _mm512_reduce_add_ps(acc[r][t]) + (bias ? bias[r] : 0.f);
}

template <int R, int T, bool kPrefetch>
void rows_x_tokens(const DenseRows& j, int64_t rb, int64_t re, int64_t t0, int64_t c_begin, int64_t c_end,
                   __m512* partial) {
  const auto* w = static_cast<const uint16_t*>(j.w);
  const uint16_t* x = j.xb + t0 * j.x_stride;
  float* y = j.y + t0 * j.y_stride;
  auto bias_at = [&](int64_t r) { return j.bias ? j.bias + r : nullptr; };
  auto partial_at = [&](int64_t r) { return partial ? partial + (r - rb) * T : nullptr; };
  int64_t r = rb;
  for (; r + R <= re; r += R)
    micro<R, T, kPrefetch>(w + r * j.w_stride, j.w_stride, x, j.x_stride, c_begin, c_end, j.in, y + r, j.y_stride,
                           bias_at(r), partial_at(r));
  for (; r < re; ++r)
    micro<1, T, kPrefetch>(w + r * j.w_stride, j.w_stride, x, j.x_stride, c_begin, c_end, j.in, y + r, j.y_stride,
                           bias_at(r), partial_at(r));
}

// 6 tokens x 1024 bf16 inputs = 12 KB of x per chunk: stays in L1 next to the weights.
constexpr int64_t kChunkInputs = 1024;
constexpr int64_t kMaxChunkedRows = 128;

template <int R, int T, bool kPrefetch>
void rows_x_tokens_chunked(const DenseRows& j, int64_t rb, int64_t re, int64_t t0) {
  const int64_t chunks = (j.in + kChunkInputs - 1) / kChunkInputs;
  if (kPrefetch || chunks <= 1) return rows_x_tokens<R, T, kPrefetch>(j, rb, re, t0, 0, j.in, nullptr);
  const int64_t step = (j.in / chunks + kBlock - 1) / kBlock * kBlock;
  __m512 partial[kMaxChunkedRows * T];
  for (int64_t c = 0; c < j.in; c += step)
    rows_x_tokens<R, T, kPrefetch>(j, rb, re, t0, c, min64(j.in, c + step), partial);
}

template <int R, bool kPrefetch>
void token_group(const DenseRows& j, int64_t rb, int64_t re, int64_t t0, int64_t count) {
  switch (count) {
    case 1: return rows_x_tokens_chunked<R, 1, kPrefetch>(j, rb, re, t0);
    case 2: return rows_x_tokens_chunked<R, 2, kPrefetch>(j, rb, re, t0);
    case 3: return rows_x_tokens_chunked<R, 3, kPrefetch>(j, rb, re, t0);
    case 4: return rows_x_tokens_chunked<R, 4, kPrefetch>(j, rb, re, t0);
    case 5: return rows_x_tokens_chunked<R, 5, kPrefetch>(j, rb, re, t0);
    default: return rows_x_tokens_chunked<R, 6, kPrefetch>(j, rb, re, t0);
  }
}
static_assert(kMaxTokens == 6, "token_group covers 1..6 tokens");

}  // namespace

void round_rows_bf16_avx512(const float* x, int64_t n, int64_t in, uint16_t* xb, int64_t xb_stride) {
  for (int64_t t = 0; t < n; ++t) {
    const float* src = x + t * in;
    uint16_t* dst = xb + t * xb_stride;
    int64_t c = 0;
    // vcvtneps2bf16 rounds to nearest even (NaN stays NaN), like f32_to_bf16 in core/dtype.h.
    for (; c + 16 <= in; c += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + c), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + c)));
    if (c < in) {
      const __mmask16 m = _cvtu32_mask16((1u << (in - c)) - 1);
      const __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + c));
      _mm256_mask_storeu_epi16(dst + c, m, h);
      c = in;
    }
    for (; c < xb_stride; ++c) dst[c] = 0;
  }
}

void dense_bf16_dp_rows_avx512(const DenseRows& j, int64_t row_begin, int64_t row_end) {
  if (j.n <= 3) {
    switch (j.n) {
      case 1: return rows_x_tokens<kRowsGemv, 1, true>(j, row_begin, row_end, 0, 0, j.in, nullptr);
      case 2: return rows_x_tokens<kRowsGemv, 2, true>(j, row_begin, row_end, 0, 0, j.in, nullptr);
      default: return rows_x_tokens<kRowsGemv, 3, true>(j, row_begin, row_end, 0, 0, j.in, nullptr);
    }
  }
  const int64_t groups = (j.n + kMaxTokens - 1) / kMaxTokens;
  const int64_t row_bytes = j.in * 2 > 0 ? j.in * 2 : 1;
  int64_t tile_rows = kTileBytes / row_bytes / kRowsTile * kRowsTile;
  tile_rows = tile_rows < kRowsTile ? kRowsTile : min64(tile_rows, kMaxChunkedRows);
  for (int64_t rb = row_begin; rb < row_end; rb += tile_rows) {
    const int64_t re = min64(row_end, rb + tile_rows);
    int64_t t0 = 0;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t count = (j.n - t0) / (groups - g);
      if (g == 0) token_group<kRowsTile, true>(j, rb, re, t0, count);
      else token_group<kRowsTile, false>(j, rb, re, t0, count);
      t0 += count;
    }
  }
}

}  // namespace gossamer::kernels::cpu
