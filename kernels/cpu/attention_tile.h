#pragma once
// AVX2+FMA building blocks of the tiled attention kernel (kernels/cpu/attention_varlen.cpp):
// a vector exp, the score tile S = Q Kᵀ for a few query rows against kKeyTile keys, and the
// value update O += P V. Register-blocked: NR query rows per call, their accumulators held
// in registers for the whole reduction.
#include <immintrin.h>

#include <cstdint>

namespace gossamer::kernels::cpu::tile {

// Keys per tile: two 8-wide vectors of scores per query row.
constexpr int kKeyTile = 16;

// e^x for each lane, relative error ~2 ulp; lanes below -87.3 (and -inf) give exactly 0,
// which is how masked scores drop out of the softmax. Range reduction
// x = n ln2 + r with ln2 split in two (Cody-Waite), then a degree-6 polynomial for e^r.
inline __m256 exp(__m256 x) {
  const __m256 lowest = _mm256_set1_ps(-87.33654f);
  const __m256 keep = _mm256_cmp_ps(x, lowest, _CMP_GE_OQ);
  x = _mm256_max_ps(_mm256_min_ps(x, _mm256_set1_ps(88.37626f)), lowest);
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.44269504088896341f)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), x);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  __m256 p = _mm256_set1_ps(1.9875691500e-4f);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.3981999507e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(8.3334519073e-3f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(4.1665795894e-2f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(1.6666665459e-1f));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(5.0000001201e-1f));
  p = _mm256_fmadd_ps(p, _mm256_mul_ps(r, r), _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i pow2n = _mm256_slli_epi32(_mm256_add_epi32(_mm256_cvtps_epi32(n), _mm256_set1_epi32(127)), 23);
  return _mm256_and_ps(_mm256_mul_ps(p, _mm256_castsi256_ps(pow2n)), keep);
}

inline float hmax(__m256 v) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  m = _mm_max_ss(m, _mm_movehdup_ps(m));
  return _mm_cvtss_f32(m);
}

inline float hsum(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

// dst[i * kKeyTile + j] = rows[j][off + i] for i, j < 8: eight 8-float row pieces
// transposed into one 8x8 corner of the K tile (unpack, shuffle, swap 128-bit lanes).
inline void transpose8(const float* const* rows, int64_t off, float* dst) {
  __m256 r[8];
#pragma GCC unroll 8
  for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(rows[j] + off);
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]);
  const __m256 t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]);
  const __m256 t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]);
  const __m256 t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u1 = _mm256_shuffle_ps(t0, t2, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u2 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u3 = _mm256_shuffle_ps(t1, t3, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u4 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u5 = _mm256_shuffle_ps(t4, t6, _MM_SHUFFLE(3, 2, 3, 2));
  const __m256 u6 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(1, 0, 1, 0));
  const __m256 u7 = _mm256_shuffle_ps(t5, t7, _MM_SHUFFLE(3, 2, 3, 2));
  _mm256_store_ps(dst + 0 * kKeyTile, _mm256_permute2f128_ps(u0, u4, 0x20));
  _mm256_store_ps(dst + 1 * kKeyTile, _mm256_permute2f128_ps(u1, u5, 0x20));
  _mm256_store_ps(dst + 2 * kKeyTile, _mm256_permute2f128_ps(u2, u6, 0x20));
  _mm256_store_ps(dst + 3 * kKeyTile, _mm256_permute2f128_ps(u3, u7, 0x20));
  _mm256_store_ps(dst + 4 * kKeyTile, _mm256_permute2f128_ps(u0, u4, 0x31));
  _mm256_store_ps(dst + 5 * kKeyTile, _mm256_permute2f128_ps(u1, u5, 0x31));
  _mm256_store_ps(dst + 6 * kKeyTile, _mm256_permute2f128_ps(u2, u6, 0x31));
  _mm256_store_ps(dst + 7 * kKeyTile, _mm256_permute2f128_ps(u3, u7, 0x31));
}

// kt[i][j] = rows[j][i] for the kKeyTile rows and i < d (the tile of K, transposed).
inline void transpose_tile(const float* const* rows, int64_t d, float* kt) {
  int64_t i = 0;
  for (; i + 8 <= d; i += 8) {
    transpose8(rows, i, kt + i * kKeyTile);
    transpose8(rows + 8, i, kt + i * kKeyTile + 8);
  }
  for (; i < d; ++i)
    for (int j = 0; j < kKeyTile; ++j) kt[i * kKeyTile + j] = rows[j][i];
}

// s[r][0..16) = scale * (q[r] · key j) for NR rows, keys transposed: kt[i][j] = K[j][i].
// Each step over i loads one row of kt (both vectors) and feeds it to every query row.
template <int NR>
inline void scores(const float* const* q, const float* kt, int64_t d, float scale, float* s) {
  __m256 lo[NR], hi[NR];
  const float* qr[NR];
#pragma GCC unroll 8
  for (int r = 0; r < NR; ++r) {
    lo[r] = hi[r] = _mm256_setzero_ps();
    qr[r] = q[r];
  }
  for (int64_t i = 0; i < d; ++i) {
    const __m256 k0 = _mm256_load_ps(kt + i * kKeyTile), k1 = _mm256_load_ps(kt + i * kKeyTile + 8);
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r) {
      const __m256 qb = _mm256_broadcast_ss(qr[r] + i);
      lo[r] = _mm256_fmadd_ps(qb, k0, lo[r]);
      hi[r] = _mm256_fmadd_ps(qb, k1, hi[r]);
    }
  }
  const __m256 sc = _mm256_set1_ps(scale);
#pragma GCC unroll 8
  for (int r = 0; r < NR; ++r) {
    _mm256_store_ps(s + r * kKeyTile, _mm256_mul_ps(lo[r], sc));
    _mm256_store_ps(s + r * kKeyTile + 8, _mm256_mul_ps(hi[r], sc));
  }
}

// o[r][c .. c + 8 NV) += sum_j p[r][j] v_j[c ..] for NR rows (o row stride `ostride`).
// kMasked: the one vector (NV = 1) is the head's ragged end, loaded under `tail`.
template <int NR, int NV, bool kMasked>
inline void accumulate(float* o, int64_t ostride, const float* p, const float* const* v, int nk,
                       int64_t c, __m256i tail) {
  __m256 acc[NR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < NR; ++r)
#pragma GCC unroll 4
    for (int x = 0; x < NV; ++x) acc[r][x] = _mm256_load_ps(o + r * ostride + c + 8 * x);
  for (int j = 0; j < nk; ++j) {
    __m256 vv[NV];
#pragma GCC unroll 4
    for (int x = 0; x < NV; ++x)
      vv[x] = kMasked ? _mm256_maskload_ps(v[j] + c, tail) : _mm256_loadu_ps(v[j] + c + 8 * x);
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r) {
      const __m256 w = _mm256_broadcast_ss(p + r * kKeyTile + j);
#pragma GCC unroll 4
      for (int x = 0; x < NV; ++x) acc[r][x] = _mm256_fmadd_ps(w, vv[x], acc[r][x]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < NR; ++r)
#pragma GCC unroll 4
    for (int x = 0; x < NV; ++x) _mm256_store_ps(o + r * ostride + c + 8 * x, acc[r][x]);
}

}  // namespace gossamer::kernels::cpu::tile
