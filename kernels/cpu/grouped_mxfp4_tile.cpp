#include "kernels/cpu/grouped_mxfp4_tile.h"

#include <immintrin.h>

namespace gossamer::kernels::cpu {
namespace {

inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// NR weight rows x NT input rows, 8 lanes. The small loops must unroll, or the
// accumulators live in memory (12 accumulators + 4 weights = the 16 ymm registers).
template <int NR, int NT>
inline void block_avx2(const float* wt, int64_t in, const float* const* xp, float* dots, int64_t ld) {
  __m256 acc[NT][NR];
#pragma GCC unroll 16
  for (int j = 0; j < NT * NR; ++j) acc[j / NR][j % NR] = _mm256_setzero_ps();
  for (int64_t c = 0; c < in; c += 8) {
    __m256 wv[NR];
#pragma GCC unroll 4
    for (int i = 0; i < NR; ++i) wv[i] = _mm256_loadu_ps(wt + i * in + c);
#pragma GCC unroll 4
    for (int t = 0; t < NT; ++t) {
      const __m256 xv = _mm256_loadu_ps(xp[t] + c);
#pragma GCC unroll 4
      for (int i = 0; i < NR; ++i) acc[t][i] = _mm256_fmadd_ps(wv[i], xv, acc[t][i]);
    }
  }
#pragma GCC unroll 16
  for (int j = 0; j < NT * NR; ++j) dots[(j / NR) * ld + j % NR] = hsum256(acc[j / NR][j % NR]);
}

template <int NR>
void rows_avx2(const float* wt, int64_t in, const float* const* xp, int64_t m, float* dots, int64_t ld) {
  int64_t t = 0;
  for (; t + 3 <= m; t += 3) block_avx2<NR, 3>(wt, in, xp + t, dots + t * ld, ld);
  if (m - t == 2) block_avx2<NR, 2>(wt, in, xp + t, dots + t * ld, ld);
  else if (m - t == 1) block_avx2<NR, 1>(wt, in, xp + t, dots + t * ld, ld);
}

// The same with 16 lanes: 4 x 6 accumulators + 4 weights of the 32 zmm registers.
template <int NR, int NT>
__attribute__((target("avx512f"))) inline void block_avx512(const float* wt, int64_t in, const float* const* xp,
                                                            float* dots, int64_t ld) {
  __m512 acc[NT][NR];
#pragma GCC unroll 32
  for (int j = 0; j < NT * NR; ++j) acc[j / NR][j % NR] = _mm512_setzero_ps();
  for (int64_t c = 0; c < in; c += 16) {
    __m512 wv[NR];
#pragma GCC unroll 4
    for (int i = 0; i < NR; ++i) wv[i] = _mm512_loadu_ps(wt + i * in + c);
#pragma GCC unroll 8
    for (int t = 0; t < NT; ++t) {
      const __m512 xv = _mm512_loadu_ps(xp[t] + c);
#pragma GCC unroll 4
      for (int i = 0; i < NR; ++i) acc[t][i] = _mm512_fmadd_ps(wv[i], xv, acc[t][i]);
    }
  }
  // (Through memory: GCC 12's _mm512_reduce_add_ps trips -Wuninitialized in its header.)
  alignas(64) float lanes[16];
  for (int j = 0; j < NT * NR; ++j) {
    _mm512_store_ps(lanes, acc[j / NR][j % NR]);
    dots[(j / NR) * ld + j % NR] = hsum256(_mm256_add_ps(_mm256_load_ps(lanes), _mm256_load_ps(lanes + 8)));
  }
}

template <int NR>
__attribute__((target("avx512f"))) void rows_avx512(const float* wt, int64_t in, const float* const* xp, int64_t m,
                                                    float* dots, int64_t ld) {
  int64_t t = 0;
  for (; t + 6 <= m; t += 6) block_avx512<NR, 6>(wt, in, xp + t, dots + t * ld, ld);
  switch (m - t) {
    case 5: block_avx512<NR, 5>(wt, in, xp + t, dots + t * ld, ld); break;
    case 4: block_avx512<NR, 4>(wt, in, xp + t, dots + t * ld, ld); break;
    case 3: block_avx512<NR, 3>(wt, in, xp + t, dots + t * ld, ld); break;
    case 2: block_avx512<NR, 2>(wt, in, xp + t, dots + t * ld, ld); break;
    case 1: block_avx512<NR, 1>(wt, in, xp + t, dots + t * ld, ld); break;
    default: break;
  }
}

}  // namespace

void tile_dots_avx2(const float* tile, int64_t tile_rows, int64_t in, const float* const* xp, int64_t m,
                    float* dots, int64_t ld) {
  int64_t i = 0;
  for (; i + 4 <= tile_rows; i += 4) rows_avx2<4>(tile + i * in, in, xp, m, dots + i, ld);
  switch (tile_rows - i) {  // a tail only when `out` is not a multiple of 4
    case 3: rows_avx2<3>(tile + i * in, in, xp, m, dots + i, ld); break;
    case 2: rows_avx2<2>(tile + i * in, in, xp, m, dots + i, ld); break;
    case 1: rows_avx2<1>(tile + i * in, in, xp, m, dots + i, ld); break;
    default: break;
  }
}

__attribute__((target("avx512f"))) void tile_dots_avx512(const float* tile, int64_t tile_rows, int64_t in,
                                                         const float* const* xp, int64_t m, float* dots,
                                                         int64_t ld) {
  int64_t i = 0;
  for (; i + 4 <= tile_rows; i += 4) rows_avx512<4>(tile + i * in, in, xp, m, dots + i, ld);
  switch (tile_rows - i) {
    case 3: rows_avx512<3>(tile + i * in, in, xp, m, dots + i, ld); break;
    case 2: rows_avx512<2>(tile + i * in, in, xp, m, dots + i, ld); break;
    case 1: rows_avx512<1>(tile + i * in, in, xp, m, dots + i, ld); break;
    default: break;
  }
}

bool cpu_has_avx512() {
  static const bool has = __builtin_cpu_supports("avx512f");
  return has;
}

}  // namespace gossamer::kernels::cpu
