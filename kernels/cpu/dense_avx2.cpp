// AVX2 kernels of the dense linear: bf16 weights (pairs layout, see
// kernels/cpu/dense_rows.h) and f32 weights. Same structure as the AVX-512 kernel in
// kernels/cpu/avx512/dense_bf16.cpp: R rows x T tokens per micro-kernel, a software
// prefetch per row when streaming, L2 tiles of rows reused by every token group.
#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "kernels/cpu/dense_rows.h"

namespace gossamer::kernels::cpu {
namespace {

constexpr int64_t kBlock = kAvx2PairBlock;
constexpr int64_t kPrefetchBytes = 512;
constexpr int64_t kTileBytes = 256 * 1024;
// 16 ymm registers: 4 rows x up to 3 tokens (12 accumulators + 4 weights, x straight from
// memory into the FMAs). Measured: 2 rows x 6 tokens, with fewer widening instructions per
// FMA, was ~25% slower at n = 16 (twice the x traffic from L2 per weight line).
constexpr int kRowsGemv = 4, kRowsTile = 4, kMaxTokens = 3;

inline float hsum_lanes(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

template <int R, int T, bool kPrefetch>
inline void micro_bf16(const uint16_t* w, int64_t ws, const float* x, int64_t xs, int64_t in, float* y,
                       int64_t ys, const float* bias) {
  const __m256i high = _mm256_set1_epi32(int(0xffff0000u));
  __m256 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();

  auto block = [&](const __m256i (&lanes)[R], int64_t c) __attribute__((always_inline)) {
    __m256 wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm256_castsi256_ps(_mm256_slli_epi32(lanes[r], 16));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m256 xe = _mm256_loadu_ps(x + t * xs + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xe, acc[r][t]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm256_castsi256_ps(_mm256_and_si256(lanes[r], high));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m256 xo = _mm256_loadu_ps(x + t * xs + c + kBlock / 2);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xo, acc[r][t]);
    }
  };
  auto load_block = [&](int64_t c) __attribute__((always_inline)) {
    __m256i lanes[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) lanes[r] = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(w + r * ws + c));
    block(lanes, c);
  };

  int64_t c = 0;
  // Two blocks = one 64-byte line per row per iteration, one prefetch each.
  for (; c + 2 * kBlock <= in; c += 2 * kBlock) {
    if constexpr (kPrefetch) {
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r)
        _mm_prefetch(reinterpret_cast<const char*>(w + r * ws + c) + kPrefetchBytes, _MM_HINT_T0);
    }
    load_block(c);
    load_block(c + kBlock);
  }
  if (c + kBlock <= in) {
    load_block(c);
    c += kBlock;
  }
  if (c < in) {
    // AVX2 has no 16-bit masked load: copy the tail into a zeroed block (x is zero padded).
    __m256i lanes[R];
    for (int r = 0; r < R; ++r) {
      alignas(32) uint16_t tail[kBlock] = {};
      std::memcpy(tail, w + r * ws + c, size_t(in - c) * 2);
      lanes[r] = _mm256_load_si256(reinterpret_cast<const __m256i*>(tail));
    }
    block(lanes, c);
  }
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) y[t * ys + r] = hsum_lanes(acc[r][t]) + (bias ? bias[r] : 0.f);
}

// f32 weights (tests and small models): plain x, 8 inputs per vector, scalar tail.
template <int R, int T, bool kPrefetch>
inline void micro_f32(const float* w, int64_t ws, const float* x, int64_t xs, int64_t in, float* y,
                      int64_t ys, const float* bias) {
  __m256 acc[R][T];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= in; c += 8) {
    __m256 wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm256_loadu_ps(w + r * ws + c);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m256 xv = _mm256_loadu_ps(x + t * xs + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      float s = hsum_lanes(acc[r][t]);
      for (int64_t k = c; k < in; ++k) s += w[r * ws + k] * x[t * xs + k];
      y[t * ys + r] = s + (bias ? bias[r] : 0.f);
    }
}

template <typename W, int R, int T, bool kPrefetch>
void rows_x_tokens(const DenseRows& j, int64_t rb, int64_t re, int64_t t0) {
  const auto* w = static_cast<const W*>(j.w);
  const float* x = j.x + t0 * j.x_stride;
  float* y = j.y + t0 * j.y_stride;
  auto run = [&]<int Rows>(int64_t r) {
    const float* b = j.bias ? j.bias + r : nullptr;
    if constexpr (sizeof(W) == 2)
      micro_bf16<Rows, T, kPrefetch>(w + r * j.w_stride, j.w_stride, x, j.x_stride, j.in, y + r, j.y_stride, b);
    else
      micro_f32<Rows, T, kPrefetch>(w + r * j.w_stride, j.w_stride, x, j.x_stride, j.in, y + r, j.y_stride, b);
  };
  int64_t r = rb;
  for (; r + R <= re; r += R) run.template operator()<R>(r);
  for (; r < re; ++r) run.template operator()<1>(r);
}

template <typename W, int R, bool kPrefetch>
void token_group(const DenseRows& j, int64_t rb, int64_t re, int64_t t0, int64_t count) {
  switch (count) {
    case 1: return rows_x_tokens<W, R, 1, kPrefetch>(j, rb, re, t0);
    case 2: return rows_x_tokens<W, R, 2, kPrefetch>(j, rb, re, t0);
    case 3: return rows_x_tokens<W, R, 3, kPrefetch>(j, rb, re, t0);
    case 4: return rows_x_tokens<W, R, 4, kPrefetch>(j, rb, re, t0);
    case 5: return rows_x_tokens<W, R, 5, kPrefetch>(j, rb, re, t0);
    default: return rows_x_tokens<W, R, 6, kPrefetch>(j, rb, re, t0);
  }
}
static_assert(kMaxTokens <= 6, "token_group covers 1..6 tokens");

// n <= 3: one streaming pass; otherwise L2 tiles of rows x balanced token groups.
template <typename W, int RowsTile, int MaxTokens>
void dense_rows(const DenseRows& j, int64_t row_begin, int64_t row_end) {
  if (j.n <= 3) {
    switch (j.n) {
      case 1: return rows_x_tokens<W, kRowsGemv, 1, true>(j, row_begin, row_end, 0);
      case 2: return rows_x_tokens<W, kRowsGemv, 2, true>(j, row_begin, row_end, 0);
      default: return rows_x_tokens<W, kRowsGemv, 3, true>(j, row_begin, row_end, 0);
    }
  }
  const int64_t groups = (j.n + MaxTokens - 1) / MaxTokens;
  const int64_t row_bytes = std::max<int64_t>(1, j.in * int64_t(sizeof(W)));
  const int64_t tile_rows = std::max<int64_t>(RowsTile, kTileBytes / row_bytes / RowsTile * RowsTile);
  for (int64_t rb = row_begin; rb < row_end; rb += tile_rows) {
    const int64_t re = std::min(row_end, rb + tile_rows);
    int64_t t0 = 0;
    for (int64_t g = 0; g < groups; ++g) {
      const int64_t count = (j.n - t0) / (groups - g);
      if (g == 0) token_group<W, RowsTile, true>(j, rb, re, t0, count);
      else token_group<W, RowsTile, false>(j, rb, re, t0, count);
      t0 += count;
    }
  }
}

}  // namespace

void dense_bf16_rows_avx2(const DenseRows& j, int64_t row_begin, int64_t row_end) {
  dense_rows<uint16_t, kRowsTile, kMaxTokens>(j, row_begin, row_end);
}

void dense_f32_rows_avx2(const DenseRows& j, int64_t row_begin, int64_t row_end) {
  // f32 weights: 4 rows x at most 3 tokens (8 floats per load, no widening to amortise).
  dense_rows<float, 4, 3>(j, row_begin, row_end);
}

}  // namespace gossamer::kernels::cpu
