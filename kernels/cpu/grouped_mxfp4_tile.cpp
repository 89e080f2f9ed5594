#include "kernels/cpu/grouped_mxfp4_tile.h"

#include <immintrin.h>

#include <algorithm>

#include "kernels/cpu/isa.h"

namespace gossamer::kernels::cpu {
namespace {

// Contraction floats per pass: a 4-row weight slice (8 KB) and a block of 6 input rows
// (12 KB) stay in L1 while the block runs over every weight row of the tile. Without it
// one of the two operands streams from L2 on every FMA group (measured: the kernel was
// L2-bound, AVX-512 gained almost nothing over AVX2). 512 rather than 256: fewer passes
// of the accumulators through `lanes` (bench_kernels, 32 experts x 64 rows: 70.5 -> 75-77
// GFLOP per CPU-second; 128: 63, 960: 76, 1440: 66).
constexpr int64_t kKBlock = 512;

inline float hsum256(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// Lane partial sums of (input row t, weight row i) live in lanes[(t * lanes_ld + i) * L]
// between K blocks, so each lane accumulates along the whole contraction in order: the
// numbers do not depend on the blocking.

// NR weight rows x NT input rows over columns [c0, c1), 8 lanes. The small loops must
// unroll, or the accumulators live in memory (12 accumulators + 4 weights = 16 ymm).
template <int NR, int NT>
inline void block_avx2(const float* wt, int64_t in, const float* const* xp, int64_t c0, int64_t c1,
                       float* lanes, int64_t lanes_ld, bool first) {
  __m256 acc[NT][NR];
#pragma GCC unroll 16
  for (int j = 0; j < NT * NR; ++j)
    acc[j / NR][j % NR] = first ? _mm256_setzero_ps() : _mm256_loadu_ps(lanes + ((j / NR) * lanes_ld + j % NR) * 8);
  for (int64_t c = c0; c < c1; c += 8) {
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
  for (int j = 0; j < NT * NR; ++j) _mm256_storeu_ps(lanes + ((j / NR) * lanes_ld + j % NR) * 8, acc[j / NR][j % NR]);
}

template <int NT>
void token_block_avx2(const float* tile, int64_t rows, int64_t in, const float* const* xp, int64_t c0, int64_t c1,
                      float* lanes, int64_t lanes_ld, bool first) {
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4) block_avx2<4, NT>(tile + i * in, in, xp, c0, c1, lanes + i * 8, lanes_ld, first);
  switch (rows - i) {  // a tail only when `out` is not a multiple of 4
    case 3: block_avx2<3, NT>(tile + i * in, in, xp, c0, c1, lanes + i * 8, lanes_ld, first); break;
    case 2: block_avx2<2, NT>(tile + i * in, in, xp, c0, c1, lanes + i * 8, lanes_ld, first); break;
    case 1: block_avx2<1, NT>(tile + i * in, in, xp, c0, c1, lanes + i * 8, lanes_ld, first); break;
    default: break;
  }
}

// The same with 16 lanes: 4 x 6 accumulators + 4 weights of the 32 zmm registers.
template <int NR, int NT>
__attribute__((target("avx512f"))) inline void block_avx512(const float* wt, int64_t in, const float* const* xp,
                                                            int64_t c0, int64_t c1, float* lanes, int64_t lanes_ld,
                                                            bool first) {
  __m512 acc[NT][NR];
#pragma GCC unroll 32
  for (int j = 0; j < NT * NR; ++j)
    acc[j / NR][j % NR] = first ? _mm512_setzero_ps() : _mm512_loadu_ps(lanes + ((j / NR) * lanes_ld + j % NR) * 16);
  for (int64_t c = c0; c < c1; c += 16) {
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
#pragma GCC unroll 32
  for (int j = 0; j < NT * NR; ++j) _mm512_storeu_ps(lanes + ((j / NR) * lanes_ld + j % NR) * 16, acc[j / NR][j % NR]);
}

template <int NT>
__attribute__((target("avx512f"))) void token_block_avx512(const float* tile, int64_t rows, int64_t in,
                                                           const float* const* xp, int64_t c0, int64_t c1,
                                                           float* lanes, int64_t lanes_ld, bool first) {
  int64_t i = 0;
  for (; i + 4 <= rows; i += 4) block_avx512<4, NT>(tile + i * in, in, xp, c0, c1, lanes + i * 16, lanes_ld, first);
  switch (rows - i) {
    case 3: block_avx512<3, NT>(tile + i * in, in, xp, c0, c1, lanes + i * 16, lanes_ld, first); break;
    case 2: block_avx512<2, NT>(tile + i * in, in, xp, c0, c1, lanes + i * 16, lanes_ld, first); break;
    case 1: block_avx512<1, NT>(tile + i * in, in, xp, c0, c1, lanes + i * 16, lanes_ld, first); break;
    default: break;
  }
}

// dots[t * ld + i] = Σ of the L lanes of (t, i).
void reduce_lanes(const float* lanes, int lanes_per, int64_t rows, int64_t m, float* dots, int64_t ld) {
  for (int64_t t = 0; t < m; ++t)
    for (int64_t i = 0; i < rows; ++i) {
      const float* l = lanes + (t * rows + i) * lanes_per;
      __m256 v = _mm256_loadu_ps(l);
      if (lanes_per == 16) v = _mm256_add_ps(v, _mm256_loadu_ps(l + 8));
      dots[t * ld + i] = hsum256(v);
    }
}

}  // namespace

void tile_dots_avx2(const float* tile, int64_t rows, int64_t in, const float* const* xp, int64_t m, float* dots,
                    int64_t ld, float* lanes) {
  for (int64_t c0 = 0; c0 < in; c0 += kKBlock) {
    const int64_t c1 = std::min(in, c0 + kKBlock);
    const bool first = c0 == 0;
    int64_t t = 0;
    for (; t + 3 <= m; t += 3) token_block_avx2<3>(tile, rows, in, xp + t, c0, c1, lanes + t * rows * 8, rows, first);
    if (m - t == 2) token_block_avx2<2>(tile, rows, in, xp + t, c0, c1, lanes + t * rows * 8, rows, first);
    else if (m - t == 1) token_block_avx2<1>(tile, rows, in, xp + t, c0, c1, lanes + t * rows * 8, rows, first);
  }
  reduce_lanes(lanes, 8, rows, m, dots, ld);
}

__attribute__((target("avx512f"))) void tile_dots_avx512(const float* tile, int64_t rows, int64_t in,
                                                         const float* const* xp, int64_t m, float* dots, int64_t ld,
                                                         float* lanes) {
  for (int64_t c0 = 0; c0 < in; c0 += kKBlock) {
    const int64_t c1 = std::min(in, c0 + kKBlock);
    const bool first = c0 == 0;
    int64_t t = 0;
    for (; t + 6 <= m; t += 6) token_block_avx512<6>(tile, rows, in, xp + t, c0, c1, lanes + t * rows * 16, rows, first);
    float* l = lanes + t * rows * 16;
    switch (m - t) {
      case 5: token_block_avx512<5>(tile, rows, in, xp + t, c0, c1, l, rows, first); break;
      case 4: token_block_avx512<4>(tile, rows, in, xp + t, c0, c1, l, rows, first); break;
      case 3: token_block_avx512<3>(tile, rows, in, xp + t, c0, c1, l, rows, first); break;
      case 2: token_block_avx512<2>(tile, rows, in, xp + t, c0, c1, l, rows, first); break;
      case 1: token_block_avx512<1>(tile, rows, in, xp + t, c0, c1, l, rows, first); break;
      default: break;
    }
  }
  reduce_lanes(lanes, 16, rows, m, dots, ld);
}

bool cpu_has_avx512() { return active_isa() == Isa::kAvx512; }

}  // namespace gossamer::kernels::cpu
