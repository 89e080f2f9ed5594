#pragma once
// The blocking shared by the two AVX-512 bf16 dense kernels: dense_bf16.cpp (weights
// widened to f32, FMAs against the pairs layout of x; Precision::kExact) and
// dense_bf16_dp.cpp (dpbf16ps against x rounded to bf16; Precision::kFast). They differ only
// in what one 64-byte weight line does to the accumulators, which a kernel supplies as a
// policy struct K:
//   using X = float | uint16_t;                  // element type of the x rows
//   static constexpr int64_t kBlock;             // inputs per 64-byte weight line
//   static constexpr int64_t kChunkInputs;       // k-chunk that keeps 6 tokens' x in L1
//   static const X* x_rows(const DenseRows&);    // x of token 0
//   template <int R, int T> static void line(__m512 (&acc)[R][T], const __m512i (&lanes)[R],
//                                            const X* x, int64_t xs, int64_t c);
// A micro-kernel multiplies R rows by T tokens with R*T independent accumulators:
//  * n = 1..3 (decode): the loop streams R rows at once with a software prefetch a few
//    lines ahead in every row, so both the hardware prefetcher and the explicit ones keep
//    many lines in flight; the arithmetic is short next to the memory time.
//  * larger n: rows go in tiles that stay in L2 and every token group reuses the tile,
//    so each weight row comes from DRAM once per call whatever n is.
//
// Included only by files in kernels/cpu/avx512/ (compiled with AVX-512 flags, never in a
// unity batch); everything here has internal linkage, so no AVX-512 instruction can leak
// into code an AVX2-only caller runs.
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/dense_rows.h"

namespace gossamer::kernels::cpu {
namespace {

// Prefetch distance in bytes per row. Decode streams several rows at once, so the lines in
// flight are kDenseRowsGemv x this / 64.
constexpr int64_t kDensePrefetchBytes = 512;
constexpr int64_t kDenseTileBytes = 512 * 1024;  // weights reused from L2 by every token group
constexpr int kDenseRowsGemv = 4, kDenseRowsTile = 4, kDenseMaxTokens = 6;
constexpr int64_t kDenseMaxChunkedRows = 128;    // partial sums on the stack: 128 x 6 x 64 B

inline int64_t dense_min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Inputs [c_begin, c_end) of rows r0.. r0+R-1 against tokens t0.. t0+T-1; w at row r0, x at
// token t0, y at (t0, r0). A k-chunked caller passes `partial` ([R][T] vectors): the sums
// so far come from there when c_begin > 0 and go back there unless c_end == in, where
// they are reduced into y instead.
template <class K, int R, int T, bool kPrefetch>
inline void dense_micro(const uint16_t* w, int64_t ws, const typename K::X* x, int64_t xs, int64_t c_begin,
                        int64_t c_end, int64_t in, float* y, int64_t ys, const float* bias, __m512* partial) {
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = partial && c_begin > 0 ? partial[r * T + t] : _mm512_setzero_ps();

  const int64_t full = dense_min64(c_end, in / K::kBlock * K::kBlock);
  int64_t c = c_begin;
  for (; c < full; c += K::kBlock) {
    __m512i lanes[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const uint16_t* p = w + r * ws + c;
      if constexpr (kPrefetch) _mm_prefetch(reinterpret_cast<const char*>(p) + kDensePrefetchBytes, _MM_HINT_T0);
      lanes[r] = _mm512_loadu_si512(p);
    }
    K::template line<R, T>(acc, lanes, x, xs, c);
  }
  if (c < c_end) {
    // Masked load: the missing weights read as +0 and x is zero padded, so the padding adds
    // exact zeros (never 0 x NaN).
    const __mmask32 mask = _cvtu32_mask32(uint32_t((uint64_t(1) << (in - c)) - 1));
    __m512i lanes[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) lanes[r] = _mm512_maskz_loadu_epi16(mask, w + r * ws + c);
    K::template line<R, T>(acc, lanes, x, xs, c);
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

// Rows [rb, re) x tokens [t0, t0 + T) over inputs [c_begin, c_end); partial: T vectors
// per row of [rb, re) when the inputs come in chunks, else null.
template <class K, int R, int T, bool kPrefetch>
void dense_rows_x_tokens(const DenseRows& j, int64_t rb, int64_t re, int64_t t0, int64_t c_begin, int64_t c_end,
                         __m512* partial) {
  const auto* w = static_cast<const uint16_t*>(j.w);
  const typename K::X* x = K::x_rows(j) + t0 * j.x_stride;
  float* y = j.y + t0 * j.y_stride;
  auto bias_at = [&](int64_t r) { return j.bias ? j.bias + r : nullptr; };
  auto partial_at = [&](int64_t r) { return partial ? partial + (r - rb) * T : nullptr; };
  int64_t r = rb;
  for (; r + R <= re; r += R)
    dense_micro<K, R, T, kPrefetch>(w + r * j.w_stride, j.w_stride, x, j.x_stride, c_begin, c_end, j.in, y + r,
                                    j.y_stride, bias_at(r), partial_at(r));
  for (; r < re; ++r)
    dense_micro<K, 1, T, kPrefetch>(w + r * j.w_stride, j.w_stride, x, j.x_stride, c_begin, c_end, j.in, y + r,
                                    j.y_stride, bias_at(r), partial_at(r));
}

// Inputs in chunks whose x for a whole token group stays in L1 (K::kChunkInputs): without
// them the group's x is re-read from L2 for every R rows.
template <class K, int R, int T, bool kPrefetch>
void dense_rows_x_tokens_chunked(const DenseRows& j, int64_t rb, int64_t re, int64_t t0) {
  const int64_t chunks = (j.in + K::kChunkInputs - 1) / K::kChunkInputs;
  // The group that streams the tile from DRAM reads whole rows in order: chunked, each
  // row would be many short streams that the hardware prefetcher follows badly.
  if (kPrefetch || chunks <= 1) return dense_rows_x_tokens<K, R, T, kPrefetch>(j, rb, re, t0, 0, j.in, nullptr);
  const int64_t step = (j.in / chunks + K::kBlock - 1) / K::kBlock * K::kBlock;
  __m512 partial[kDenseMaxChunkedRows * T];
  for (int64_t c = 0; c < j.in; c += step)
    dense_rows_x_tokens<K, R, T, kPrefetch>(j, rb, re, t0, c, dense_min64(j.in, c + step), partial);
}

template <class K, int R, bool kPrefetch>
void dense_token_group(const DenseRows& j, int64_t rb, int64_t re, int64_t t0, int64_t count) {
  switch (count) {
    case 1: return dense_rows_x_tokens_chunked<K, R, 1, kPrefetch>(j, rb, re, t0);
    case 2: return dense_rows_x_tokens_chunked<K, R, 2, kPrefetch>(j, rb, re, t0);
    case 3: return dense_rows_x_tokens_chunked<K, R, 3, kPrefetch>(j, rb, re, t0);
    case 4: return dense_rows_x_tokens_chunked<K, R, 4, kPrefetch>(j, rb, re, t0);
    case 5: return dense_rows_x_tokens_chunked<K, R, 5, kPrefetch>(j, rb, re, t0);
    default: return dense_rows_x_tokens_chunked<K, R, 6, kPrefetch>(j, rb, re, t0);
  }
}
static_assert(kDenseMaxTokens == 6, "dense_token_group covers 1..6 tokens");

// Rows [row_begin, row_end) of y = x W^T + bias for the job's n tokens.
template <class K>
void dense_rows(const DenseRows& j, int64_t row_begin, int64_t row_end) {
  if (j.n <= 3) {
    // Decode: one pass over the rows, all tokens at once, memory bound.
    switch (j.n) {
      case 1: return dense_rows_x_tokens<K, kDenseRowsGemv, 1, true>(j, row_begin, row_end, 0, 0, j.in, nullptr);
      case 2: return dense_rows_x_tokens<K, kDenseRowsGemv, 2, true>(j, row_begin, row_end, 0, 0, j.in, nullptr);
      default: return dense_rows_x_tokens<K, kDenseRowsGemv, 3, true>(j, row_begin, row_end, 0, 0, j.in, nullptr);
    }
  }
  // Token groups of at most kDenseMaxTokens, as even as possible (16 -> 6, 5, 5).
  const int64_t groups = (j.n + kDenseMaxTokens - 1) / kDenseMaxTokens;
  const int64_t row_bytes = j.in * 2 > 0 ? j.in * 2 : 1;
  int64_t tile_rows = kDenseTileBytes / row_bytes / kDenseRowsTile * kDenseRowsTile;
  tile_rows = tile_rows < kDenseRowsTile ? kDenseRowsTile : dense_min64(tile_rows, kDenseMaxChunkedRows);
  for (int64_t rb = row_begin; rb < row_end; rb += tile_rows) {
    const int64_t re = dense_min64(row_end, rb + tile_rows);
    int64_t t0 = 0;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t count = (j.n - t0) / (groups - g);
      // The first group brings the tile in from DRAM; the others find it in L2.
      if (g == 0) dense_token_group<K, kDenseRowsTile, true>(j, rb, re, t0, count);
      else dense_token_group<K, kDenseRowsTile, false>(j, rb, re, t0, count);
      t0 += count;
    }
  }
}

}  // namespace
}  // namespace gossamer::kernels::cpu
