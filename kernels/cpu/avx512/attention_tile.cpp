// The score and value-update tiles of attention on AVX-512 (kernels/cpu/attention_tile_avx512.h).
// Compiled with AVX-512 flags, called only after kernels/cpu/isa.h found AVX-512; internal
// linkage only.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/cpu/attention_tile_avx512.h"

#include <immintrin.h>

namespace gossamer::kernels::cpu {
namespace {

constexpr int kKeys = 16;  // keys per tile (tile::kKeyTile)

// NR rows: one accumulator of 16 keys each, one K-tile row load feeds them all.
template <int NR>
void scores_rows(const float* const* q, const float* kt, int64_t d, float scale, float* s) {
  __m512 acc[NR];
  const float* qr[NR];
#pragma GCC unroll 16
  for (int r = 0; r < NR; ++r) {
    acc[r] = _mm512_setzero_ps();
    qr[r] = q[r];
  }
  for (int64_t i = 0; i < d; ++i) {
    const __m512 k = _mm512_load_ps(kt + i * kKeys);
#pragma GCC unroll 16
    for (int r = 0; r < NR; ++r) acc[r] = _mm512_fmadd_ps(_mm512_set1_ps(qr[r][i]), k, acc[r]);
  }
  const __m512 sc = _mm512_set1_ps(scale);
#pragma GCC unroll 16
  for (int r = 0; r < NR; ++r) _mm512_store_ps(s + r * kKeys, _mm512_mul_ps(acc[r], sc));
}

// NR rows x NV vectors of 16 outputs from column c; the last vector masked by `tail`.
template <int NR, int NV>
void accumulate_rows(float* o, int64_t ostride, const float* p, const float* const* v, int nk, int64_t c,
                     __mmask16 tail) {
  __m512 acc[NR][NV];
#pragma GCC unroll 8
  for (int r = 0; r < NR; ++r)
#pragma GCC unroll 4
    for (int x = 0; x < NV; ++x)
      acc[r][x] = _mm512_maskz_loadu_ps(x == NV - 1 ? tail : __mmask16(0xffff), o + r * ostride + c + 16 * x);
  for (int j = 0; j < nk; ++j) {
    __m512 vv[NV];
#pragma GCC unroll 4
    for (int x = 0; x < NV; ++x)
      vv[x] = _mm512_maskz_loadu_ps(x == NV - 1 ? tail : __mmask16(0xffff), v[j] + c + 16 * x);
#pragma GCC unroll 8
    for (int r = 0; r < NR; ++r) {
      const __m512 w = _mm512_set1_ps(p[r * kKeys + j]);
#pragma GCC unroll 4
      for (int x = 0; x < NV; ++x) acc[r][x] = _mm512_fmadd_ps(w, vv[x], acc[r][x]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < NR; ++r)
#pragma GCC unroll 4
    for (int x = 0; x < NV; ++x)
      _mm512_mask_storeu_ps(o + r * ostride + c + 16 * x, x == NV - 1 ? tail : __mmask16(0xffff), acc[r][x]);
}

// Rows in blocks of NR (then the remainder one by one) for one column range of NV vectors.
template <int NR, int NV>
void accumulate_columns(float* o, int64_t ostride, int64_t rows, const float* p, const float* const* v, int nk,
                        int64_t c, __mmask16 tail) {
  int64_t r = 0;
  for (; r + NR <= rows; r += NR) accumulate_rows<NR, NV>(o + r * ostride, ostride, p + r * kKeys, v, nk, c, tail);
  for (; r < rows; ++r) accumulate_rows<1, NV>(o + r * ostride, ostride, p + r * kKeys, v, nk, c, tail);
}

// 16 consecutive elements of a key row from `at` as f32 (the first `n`, zeros after).
inline __m512 load_row16(const void* row, bool bf16, int64_t at, __mmask16 n) {
  if (!bf16) return _mm512_maskz_loadu_ps(n, static_cast<const float*>(row) + at);
  const __m256i h = _mm256_maskz_loadu_epi16(n, static_cast<const uint16_t*>(row) + at);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(h), 16));
}

// out[c] = column c of the 16 x 16 block r (row j in r[j]): unpack, shuffle, then two
// rounds of 128-bit lane shuffles.
inline void transpose16(const __m512 (&r)[16], float* kt) {
  __m512 a[16], b[16];
#pragma GCC unroll 8
  for (int k = 0; k < 8; ++k) {
    a[2 * k] = _mm512_unpacklo_ps(r[2 * k], r[2 * k + 1]);
    a[2 * k + 1] = _mm512_unpackhi_ps(r[2 * k], r[2 * k + 1]);
  }
  // b[4k + m], 128-bit lane L: column 4L + m of rows 4k .. 4k + 3.
#pragma GCC unroll 4
  for (int k = 0; k < 4; ++k) {
    b[4 * k + 0] = _mm512_shuffle_ps(a[4 * k], a[4 * k + 2], 0x44);
    b[4 * k + 1] = _mm512_shuffle_ps(a[4 * k], a[4 * k + 2], 0xEE);
    b[4 * k + 2] = _mm512_shuffle_ps(a[4 * k + 1], a[4 * k + 3], 0x44);
    b[4 * k + 3] = _mm512_shuffle_ps(a[4 * k + 1], a[4 * k + 3], 0xEE);
  }
#pragma GCC unroll 4
  for (int m = 0; m < 4; ++m) {
    const __m512 c0 = _mm512_shuffle_f32x4(b[m], b[4 + m], 0x88), c1 = _mm512_shuffle_f32x4(b[m], b[4 + m], 0xDD);
    const __m512 d0 = _mm512_shuffle_f32x4(b[8 + m], b[12 + m], 0x88), d1 = _mm512_shuffle_f32x4(b[8 + m], b[12 + m], 0xDD);
    _mm512_store_ps(kt + (0 + m) * kKeys, _mm512_shuffle_f32x4(c0, d0, 0x88));
    _mm512_store_ps(kt + (4 + m) * kKeys, _mm512_shuffle_f32x4(c1, d1, 0x88));
    _mm512_store_ps(kt + (8 + m) * kKeys, _mm512_shuffle_f32x4(c0, d0, 0xDD));
    _mm512_store_ps(kt + (12 + m) * kKeys, _mm512_shuffle_f32x4(c1, d1, 0xDD));
  }
}

}  // namespace

void attention_key_tile_avx512(const void* const* rows, bool bf16, int64_t d, float* kt) {
  for (int64_t i = 0; i < d; i += 16) {
    const int64_t n = d - i < 16 ? d - i : 16;
    const __mmask16 mask = __mmask16((1u << n) - 1);
    __m512 r[16];
#pragma GCC unroll 16
    for (int j = 0; j < 16; ++j) r[j] = load_row16(rows[j], bf16, i, mask);
    if (n == 16) {
      transpose16(r, kt + i * kKeys);
    } else {  // the ragged end: transpose into scratch, keep the n rows that exist
      alignas(64) float tmp[16 * kKeys];
      transpose16(r, tmp);
      for (int64_t ii = 0; ii < n; ++ii) _mm512_store_ps(kt + (i + ii) * kKeys, _mm512_load_ps(tmp + ii * kKeys));
    }
  }
}

void attention_widen_rows_avx512(const uint16_t* const* rows, int n, int64_t d, float* dst, int64_t dst_stride) {
  for (int j = 0; j < n; ++j)
    for (int64_t i = 0; i < d; i += 16) {
      const __mmask16 mask = __mmask16(d - i < 16 ? (1u << (d - i)) - 1 : 0xffffu);
      _mm512_mask_storeu_ps(dst + j * dst_stride + i, mask, load_row16(rows[j], true, i, mask));
    }
}

void attention_scores_avx512(const float* const* q, int64_t rows, const float* kt, int64_t d, float scale, float* s) {
  int64_t r = 0;
  for (; r + 8 <= rows; r += 8) scores_rows<8>(q + r, kt, d, scale, s + r * kKeys);
  switch (rows - r) {
    case 7: return scores_rows<7>(q + r, kt, d, scale, s + r * kKeys);
    case 6: return scores_rows<6>(q + r, kt, d, scale, s + r * kKeys);
    case 5: return scores_rows<5>(q + r, kt, d, scale, s + r * kKeys);
    case 4: return scores_rows<4>(q + r, kt, d, scale, s + r * kKeys);
    case 3: return scores_rows<3>(q + r, kt, d, scale, s + r * kKeys);
    case 2: return scores_rows<2>(q + r, kt, d, scale, s + r * kKeys);
    case 1: return scores_rows<1>(q + r, kt, d, scale, s + r * kKeys);
    default: return;
  }
}

void attention_accumulate_avx512(float* o, int64_t ostride, int64_t rows, const float* p, const float* const* v,
                                 int nk, int64_t d) {
  // Four vectors (64 columns) per pass with 4 rows: 16 accumulators; the ragged end of the
  // head under a mask.
  int64_t c = 0;
  for (; c + 64 <= d; c += 64) accumulate_columns<4, 4>(o, ostride, rows, p, v, nk, c, __mmask16(0xffff));
  for (; c + 16 <= d; c += 16) accumulate_columns<4, 1>(o, ostride, rows, p, v, nk, c, __mmask16(0xffff));
  if (c < d) accumulate_columns<4, 1>(o, ostride, rows, p, v, nk, c, __mmask16((1u << (d - c)) - 1));
}

}  // namespace gossamer::kernels::cpu
