// Dense linear, CPU. The weight matrix dominates memory traffic (2880x5120 bf16 is 29 MB,
// far above cache), so the loop order is chosen to read every weight row from DRAM
// once per call: threads split the output rows; each thread walks its rows in tiles
// that stay in L2 and applies every token to a tile before moving on. The micro-kernel
// handles R rows x T tokens so one widened weight vector feeds T FMAs and one x vector
// feeds R FMAs.
#include "kernels/cpu/linear.h"

#include <immintrin.h>

#include <algorithm>
#include <cstring>

#include "core/dtype.h"

namespace gossamer::kernels::cpu {
namespace {

// 8 weights -> 8 f32. bf16 is the top half of an f32, so widening is a zero-extend and
// a 16-bit shift.
inline __m256 load8(const uint16_t* p) {
  __m128i h = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(h), 16));
}
inline __m256 load8(const float* p) { return _mm256_loadu_ps(p); }
inline float widen(uint16_t v) { return bf16_to_f32(bf16{v}); }
inline float widen(float v) { return v; }

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// acc[r][t] = W[row0 + r, :] · x[t, :] for R rows and T tokens.
template <int R, int T, typename W>
inline void micro(const W* w, int64_t ws, const float* x, int64_t in, float (&out)[R][T]) {
  // The unroll pragmas keep acc[][] in registers; without them GCC -O2 leaves the small
  // loops rolled and spills the accumulators to the stack on every FMA.
  __m256 acc[R][T];
#pragma GCC unroll 4
  for (int r = 0; r < R; ++r)
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) acc[r][t] = _mm256_setzero_ps();
  int64_t c = 0;
  for (; c + 8 <= in; c += 8) {
    __m256 wv[R];
#pragma GCC unroll 4
    for (int r = 0; r < R; ++r) wv[r] = load8(w + r * ws + c);
#pragma GCC unroll 4
    for (int t = 0; t < T; ++t) {
      __m256 xv = _mm256_loadu_ps(x + t * in + c);
#pragma GCC unroll 4
      for (int r = 0; r < R; ++r) acc[r][t] = _mm256_fmadd_ps(wv[r], xv, acc[r][t]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) {
      float s = hsum(acc[r][t]);
      for (int64_t cc = c; cc < in; ++cc) s += widen(w[r * ws + cc]) * x[t * in + cc];
      out[r][t] = s;
    }
}

template <int R, int T, typename W>
inline void tile(const W* w, int64_t ws, const float* x, int64_t in, int64_t r0, int64_t t0,
                 float* y, int64_t out, const float* bias) {
  float o[R][T];
  micro<R, T>(w + r0 * ws, ws, x + t0 * in, in, o);
  for (int r = 0; r < R; ++r)
    for (int t = 0; t < T; ++t) y[(t0 + t) * out + r0 + r] = o[r][t] + (bias ? bias[r0 + r] : 0.f);
}

// Rows [rb, re) against tokens [t0, t0 + T).
template <int T, typename W>
void rows_for_tokens(const W* w, int64_t ws, const float* x, int64_t in, int64_t rb, int64_t re,
                     int64_t t0, float* y, int64_t out, const float* bias) {
  int64_t r = rb;
  for (; r + 4 <= re; r += 4) tile<4, T>(w, ws, x, in, r, t0, y, out, bias);
  for (; r < re; ++r) tile<1, T>(w, ws, x, in, r, t0, y, out, bias);
}

template <typename W>
void linear_typed(ThreadPool& pool, float* y, const float* x, int64_t n, const W* w, int64_t ws,
                  int64_t out, int64_t in, const float* bias) {
  // ~256 KB of weights per tile: reused from L2 by every token group.
  const int64_t row_bytes = in * int64_t(sizeof(W));
  const int64_t tile_rows = std::max<int64_t>(4, (256 * 1024 / std::max<int64_t>(1, row_bytes)) / 4 * 4);
  const int64_t grain = std::min<int64_t>(tile_rows, std::max<int64_t>(4, out / (pool.size() * 4) / 4 * 4));
  pool.parallel_for((out + 3) / 4, std::max<int64_t>(1, grain / 4), [&](int64_t b, int64_t e) {
    const int64_t rb_all = b * 4, re_all = std::min(out, e * 4);
    for (int64_t rb = rb_all; rb < re_all; rb += tile_rows) {
      const int64_t re = std::min(re_all, rb + tile_rows);
      int64_t t = 0;
      for (; t + 3 <= n; t += 3) rows_for_tokens<3>(w, ws, x, in, rb, re, t, y, out, bias);
      if (n - t == 2) rows_for_tokens<2>(w, ws, x, in, rb, re, t, y, out, bias);
      if (n - t == 1) rows_for_tokens<1>(w, ws, x, in, rb, re, t, y, out, bias);
    }
  });
}

}  // namespace

void linear(ThreadPool& pool, float* y, const float* x, int64_t n, const DenseWeight& w,
            const float* bias) {
  if (n <= 0 || w.out <= 0) return;
  if (w.dtype == DType::kBF16)
    linear_typed(pool, y, x, n, static_cast<const uint16_t*>(w.data), w.stride(), w.out, w.in, bias);
  else
    linear_typed(pool, y, x, n, static_cast<const float*>(w.data), w.stride(), w.out, w.in, bias);
}

void embedding_lookup(ThreadPool& pool, float* out, const DenseWeight& table, const int32_t* ids,
                      int64_t n) {
  const int64_t dim = table.in, ws = table.stride();
  pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
    for (int64_t t = b; t < e; ++t) {
      float* o = out + t * dim;
      if (table.dtype == DType::kF32) {
        std::memcpy(o, static_cast<const float*>(table.data) + int64_t(ids[t]) * ws, size_t(dim) * 4);
        continue;
      }
      const uint16_t* row = static_cast<const uint16_t*>(table.data) + int64_t(ids[t]) * ws;
      int64_t c = 0;
      for (; c + 8 <= dim; c += 8) _mm256_storeu_ps(o + c, load8(row + c));
      for (; c < dim; ++c) o[c] = widen(row[c]);
    }
  });
}

}  // namespace gossamer::kernels::cpu
