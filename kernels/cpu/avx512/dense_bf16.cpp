// AVX-512 kernel of the bf16 dense linear. Compiled with AVX-512 flags (CMakeLists.txt);
// only ever called after kernels/cpu/isa.h found AVX-512 F/BW/VL. Everything here has
// internal linkage and the file includes no header with inline code (see
// kernels/cpu/dense_rows.h), so no AVX-512 instruction can leak into shared code.
//
// Each 64-byte line of a weight row holds 32 bf16 = 16 lanes of pairs; a shift and an
// AND turn it into two f32 vectors that meet the even and odd halves of the packed x.
// A micro-kernel multiplies R rows by T tokens with R*T independent accumulators:
//  * n = 1..3 (decode): the loop streams R rows at once with a software prefetch a few
//    lines ahead in every row, so both the hardware prefetcher and the explicit ones keep
//    many lines in flight; the FMA chains are short next to the memory time.
//  * larger n: rows go in tiles that stay in L2 and every token group reuses the tile,
//    so each weight row comes from DRAM once per call whatever n is.
// GCC 12's AVX-512 headers build "undefined" vectors by self-initialisation, which its own
// -Wuninitialized then reports at every inlined shift or reduction.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/dense_rows.h"

namespace gossamer::kernels::cpu {
namespace {

constexpr int64_t kBlock = kAvx512PairBlock;
// Prefetch distance in bytes per row. Decode streams several rows at once, so the lines in
// flight are kRowsGemv x this / 64.
constexpr int64_t kPrefetchBytes = 512;
constexpr int64_t kTileBytes = 512 * 1024;  // weights reused from L2 by every token group
constexpr int kRowsGemv = 4, kRowsTile = 4, kMaxTokens = 6;

inline int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

// Inputs [c_begin, c_end) of rows r0.. r0+R-1 against tokens t0.. t0+T-1; w at row r0, x at
// token t0, y at (t0, r0). A k-chunked caller passes `partial` ([R][T] vectors): the sums
// so far come from there when c_begin > 0 and go back there unless c_end == in, where
// they are reduced into y instead.
template <int R, int T, bool kPrefetch>
inline void micro(const uint16_t* w, int64_t ws, const float* x, int64_t xs, int64_t c_begin, int64_t c_end,
                  int64_t in, float* y, int64_t ys, const float* bias, __m512* partial) {
  const __m512i high = _mm512_set1_epi32(int(0xffff0000u));
  __m512 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = partial && c_begin > 0 ? partial[r * T + t] : _mm512_setzero_ps();

  // One block: the even halves of all R rows against all T tokens, then the odd halves
  // (two phases keep R*T accumulators + R weights within the 32 zmm registers).
  auto block = [&](const __m512i (&lanes)[R], int64_t c) __attribute__((always_inline)) {
    __m512 wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm512_castsi512_ps(_mm512_slli_epi32(lanes[r], 16));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 xe = _mm512_loadu_ps(x + t * xs + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xe, acc[r][t]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm512_castsi512_ps(_mm512_and_si512(lanes[r], high));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 xo = _mm512_loadu_ps(x + t * xs + c + kBlock / 2);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xo, acc[r][t]);
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
    // Masked load: the missing weights read as 0 and the packed x is zero padded.
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

// Rows [rb, re) x tokens [t0, t0 + T) over inputs [c_begin, c_end); partial: T vectors
// per row of [rb, re) when the inputs come in chunks, else null.
template <int R, int T, bool kPrefetch>
void rows_x_tokens(const DenseRows& j, int64_t rb, int64_t re, int64_t t0, int64_t c_begin, int64_t c_end,
                   __m512* partial) {
  const auto* w = static_cast<const uint16_t*>(j.w);
  const float* x = j.x + t0 * j.x_stride;
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

// Inputs in chunks whose packed x for a whole token group stays in L1 (6 tokens x 512
// floats = 12 KB): without them the group's x (69 KB at in = 2880) is re-read from L2
// for every 4 rows, which bounds the tile at ~2 cache lines per 3 FMAs.
constexpr int64_t kChunkInputs = 512;
constexpr int64_t kMaxChunkedRows = 128;  // partial sums on the stack: 128 x 6 x 64 B

template <int R, int T, bool kPrefetch>
void rows_x_tokens_chunked(const DenseRows& j, int64_t rb, int64_t re, int64_t t0) {
  const int64_t chunks = (j.in + kChunkInputs - 1) / kChunkInputs;
  // The group that streams the tile from DRAM reads whole rows in order: chunked, each
  // row would be many short streams that the hardware prefetcher follows badly.
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

void dense_bf16_rows_avx512(const DenseRows& j, int64_t row_begin, int64_t row_end) {
  if (j.n <= 3) {
    // Decode: one pass over the rows, all tokens at once, memory bound.
    switch (j.n) {
      case 1: return rows_x_tokens<kRowsGemv, 1, true>(j, row_begin, row_end, 0, 0, j.in, nullptr);
      case 2: return rows_x_tokens<kRowsGemv, 2, true>(j, row_begin, row_end, 0, 0, j.in, nullptr);
      default: return rows_x_tokens<kRowsGemv, 3, true>(j, row_begin, row_end, 0, 0, j.in, nullptr);
    }
  }
  // Token groups of at most kMaxTokens, as even as possible (16 -> 6, 5, 5).
  const int64_t groups = (j.n + kMaxTokens - 1) / kMaxTokens;
  const int64_t row_bytes = j.in * 2 > 0 ? j.in * 2 : 1;
  int64_t tile_rows = kTileBytes / row_bytes / kRowsTile * kRowsTile;
  tile_rows = tile_rows < kRowsTile ? kRowsTile : min64(tile_rows, kMaxChunkedRows);
  for (int64_t rb = row_begin; rb < row_end; rb += tile_rows) {
    const int64_t re = min64(row_end, rb + tile_rows);
    int64_t t0 = 0;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t count = (j.n - t0) / (groups - g);
      // The first group brings the tile in from DRAM; the others find it in L2.
      if (g == 0) token_group<kRowsTile, true>(j, rb, re, t0, count);
      else token_group<kRowsTile, false>(j, rb, re, t0, count);
      t0 += count;
    }
  }
}

}  // namespace gossamer::kernels::cpu
