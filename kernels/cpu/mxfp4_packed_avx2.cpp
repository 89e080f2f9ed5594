// The int8 expert kernels of precision fast on AVX2 CPUs, on the packed layout of
// kernels/cpu/mxfp4_int8.h (the same bytes the AVX-512 VNNI kernels read, so one cache
// file serves both), and the portable packer that writes that layout. Built with the
// project's AVX2 floor like every file outside kernels/cpu/avx512/.
//
// Why: on AVX2 the f32 MXFP4 GEMV spends about 11 instructions per block and row on
// 8-lane vectors and decodes at ~41% of the read bandwidth (docs/PERFORMANCE.md). In the
// packed layout one 32-byte load holds 4 k's of 16 rows: two vpshufb give the weight bytes
// of rows 0-7 and 8-15 (one row per dword lane), and without VNNI vpmaddubsw + vpmaddwd
// form the 4-product dot of each lane. vpmaddubsw's int16 pair sums stay below 2 x 24 x
// 127 = 6096, so four of them add in int16 before one vpmaddwd (no saturation).
// The same kernel serves prefill: an expert's rows go through it 4 at a time against a
// 32-row slice of weights that stays in L1/L2 (kernels/cpu/grouped_mxfp4.cpp).
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/mxfp4_int8.h"

namespace gossamer::kernels::cpu {
namespace {

constexpr int64_t kPrefetchBytes = 4096;  // as the AVX-512 kernel (16 blocks of 16 rows ahead)

// 0.5 * 2^(e-127) for 8 e8m0 bytes (see half_scales in kernels/cpu/avx512/mxfp4_packed.cpp).
inline __m256 half_scales8(const uint8_t* e8m0) {
  const __m256i e = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(e8m0)));
  const __m256i biased = _mm256_max_epi32(_mm256_sub_epi32(e, _mm256_set1_epi32(1)), _mm256_setzero_si256());
  return _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23));
}

template <int T>
void gemv_group(const PackedGemvJob& j, int64_t grp, float* res, int64_t valid) {
  const __m256i lut = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kInt8WeightCodes)));
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
  const __m256i ones = _mm256_set1_epi16(1);
  const uint8_t* wb = j.packed + grp * j.nb * kPackedGroupBlockBytes;
  const uint8_t* sc = j.packed + j.groups * j.nb * kPackedGroupBlockBytes + grp * j.nb * kInt8GroupRows;
  const int8_t* q[T];
  const float* xs[T];
  const int32_t* corr[T];
  for (int t = 0; t < T; ++t) {
    const int64_t src = j.rows ? int64_t{j.rows[t]} : j.row0 + t;
    q[t] = j.x->q + src * j.x->in;
    xs[t] = j.x->scale + src * j.nb;
    corr[t] = j.x->corr + src * j.nb;
  }
  __m256 acc_lo[T], acc_hi[T];
  for (int t = 0; t < T; ++t) acc_lo[t] = acc_hi[t] = _mm256_setzero_ps();
  for (int64_t g = 0; g < j.nb; ++g) {
    const uint8_t* cb = wb + g * kPackedGroupBlockBytes;
    for (int l = 0; l < 4; ++l) _mm_prefetch(reinterpret_cast<const char*>(cb) + kPrefetchBytes + 64 * l, _MM_HINT_T0);
    __m256i d_lo[T], d_hi[T];
    for (int t = 0; t < T; ++t) d_lo[t] = d_hi[t] = _mm256_set1_epi32(corr[t][g]);
    for (int half = 0; half < 2; ++half) {
      // Chunks 4h .. 4h+3: rows 0-7 from the low nibbles, rows 8-15 from the high ones.
      __m256i w_lo[4], w_hi[4];
      for (int c = 0; c < 4; ++c) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cb + 32 * (4 * half + c)));
        w_lo[c] = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, low_nibbles));
        w_hi[c] = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles));
      }
      for (int t = 0; t < T; ++t) {
        int32_t quads[4];
        std::memcpy(quads, q[t] + g * 32 + 16 * half, sizeof quads);
        __m256i s_lo = _mm256_maddubs_epi16(w_lo[0], _mm256_set1_epi32(quads[0]));
        __m256i s_hi = _mm256_maddubs_epi16(w_hi[0], _mm256_set1_epi32(quads[0]));
        for (int c = 1; c < 4; ++c) {
          const __m256i x4 = _mm256_set1_epi32(quads[c]);
          s_lo = _mm256_add_epi16(s_lo, _mm256_maddubs_epi16(w_lo[c], x4));
          s_hi = _mm256_add_epi16(s_hi, _mm256_maddubs_epi16(w_hi[c], x4));
        }
        d_lo[t] = _mm256_add_epi32(d_lo[t], _mm256_madd_epi16(s_lo, ones));
        d_hi[t] = _mm256_add_epi32(d_hi[t], _mm256_madd_epi16(s_hi, ones));
      }
    }
    const __m256 ws_lo = half_scales8(sc + g * kInt8GroupRows), ws_hi = half_scales8(sc + g * kInt8GroupRows + 8);
    for (int t = 0; t < T; ++t) {
      const __m256 xsv = _mm256_set1_ps(xs[t][g]);
      acc_lo[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d_lo[t]), _mm256_mul_ps(ws_lo, xsv), acc_lo[t]);
      acc_hi[t] = _mm256_fmadd_ps(_mm256_cvtepi32_ps(d_hi[t]), _mm256_mul_ps(ws_hi, xsv), acc_hi[t]);
    }
  }
  for (int t = 0; t < T; ++t) {
    alignas(32) float out[kInt8GroupRows];
    _mm256_store_ps(out, acc_lo[t]);
    _mm256_store_ps(out + 8, acc_hi[t]);
    std::memcpy(res + t * j.res_ld, out, sizeof(float) * static_cast<size_t>(valid));
  }
}

template <int T>
void gemv_groups(const PackedGemvJob& j, int64_t o0, int64_t o1) {
  for (int64_t o = o0; o < o1; o += kInt8GroupRows)
    gemv_group<T>(j, o / kInt8GroupRows, j.res + (o - o0), o1 - o < kInt8GroupRows ? o1 - o : kInt8GroupRows);
}

// e2m1 code -> the packed layout's code for the same value: -0 (code 8) becomes +0, as
// the AVX-512 packer's round trip through the decoded bytes makes it.
inline uint8_t canonical_code(uint8_t code) { return code == 8 ? 0 : code; }

}  // namespace

void packed_gemv_rows_avx2(const PackedGemvJob& job, int64_t o0, int64_t o1) {
  switch (job.tokens) {
    case 1: return gemv_groups<1>(job, o0, o1);
    case 2: return gemv_groups<2>(job, o0, o1);
    case 3: return gemv_groups<3>(job, o0, o1);
    default: return gemv_groups<4>(job, o0, o1);
  }
  static_assert(kPackedAvx2MaxTokens == 4, "the switch covers every token count");
}

void quantize_rows_int8_avx2(const float* x, int64_t r0, int64_t r1, const Int8Rows& dst) {
  const int64_t in = dst.in, nb = in / 32;
  const __m256 sign = _mm256_set1_ps(-0.0f);
  for (int64_t r = r0; r < r1; ++r) {
    const float* xr = x + r * in;
    for (int64_t g = 0; g < nb; ++g) {
      __m256 v[4];
      __m256 amax = _mm256_setzero_ps();
      for (int i = 0; i < 4; ++i) {
        v[i] = _mm256_loadu_ps(xr + g * 32 + 8 * i);
        amax = _mm256_max_ps(amax, _mm256_andnot_ps(sign, v[i]));
      }
      alignas(32) float m[8];
      _mm256_store_ps(m, amax);
      float top = m[0];
      for (int i = 1; i < 8; ++i) top = m[i] > top ? m[i] : top;
      // The same arithmetic as quantize_rows_int8_avx512 (round to nearest even).
      const float inv = top > 0.f ? 127.f / top : 0.f;
      __m256i sum = _mm256_setzero_si256();
      alignas(32) int32_t qi[32];
      for (int i = 0; i < 4; ++i) {
        const __m256i qv = _mm256_cvtps_epi32(_mm256_mul_ps(v[i], _mm256_set1_ps(inv)));
        sum = _mm256_add_epi32(sum, qv);
        _mm256_store_si256(reinterpret_cast<__m256i*>(qi + 8 * i), qv);
      }
      for (int i = 0; i < 32; ++i) dst.q[r * in + g * 32 + i] = static_cast<int8_t>(qi[i]);
      alignas(32) int32_t s[8];
      _mm256_store_si256(reinterpret_cast<__m256i*>(s), sum);
      int32_t total = 0;
      for (int i = 0; i < 8; ++i) total += s[i];
      dst.scale[r * nb + g] = top / 127.f;
      dst.corr[r * nb + g] = -kInt8WeightOffset * total;
    }
  }
}

void pack_groups_portable(const uint8_t* blocks, const uint8_t* scales, int64_t stride, int64_t nb, int64_t out,
                          int64_t g0, int64_t g1, uint8_t* dst) {
  const int64_t groups = (out + kInt8GroupRows - 1) / kInt8GroupRows;
  const int64_t row_bytes = stride * 16;
  for (int64_t grp = g0; grp < g1; ++grp) {
    const int64_t r0 = grp * kInt8GroupRows;
    uint8_t* wb = dst + grp * nb * kPackedGroupBlockBytes;
    uint8_t* sc = dst + groups * nb * kPackedGroupBlockBytes + grp * nb * kInt8GroupRows;
    for (int64_t g = 0; g < nb; ++g) {
      // codes[j][k]: row r0 + j's 32 codes of block g (zero for rows past the end).
      uint8_t codes[kInt8GroupRows][32] = {};
      for (int64_t j = 0; j < kInt8GroupRows && r0 + j < out; ++j) {
        const uint8_t* b = blocks + (r0 + j) * row_bytes + g * 16;
        for (int k = 0; k < 16; ++k) {
          codes[j][2 * k] = canonical_code(b[k] & 0x0f);
          codes[j][2 * k + 1] = canonical_code(b[k] >> 4);
        }
      }
      uint8_t* chunk = wb + g * kPackedGroupBlockBytes;
      for (int c = 0; c < 8; ++c)
        for (int j = 0; j < 8; ++j)
          for (int i = 0; i < 4; ++i)
            chunk[32 * c + 4 * j + i] = static_cast<uint8_t>(codes[j][4 * c + i] | (codes[j + 8][4 * c + i] << 4));
      for (int64_t i = 0; i < kInt8GroupRows; ++i) sc[g * kInt8GroupRows + i] = r0 + i < out ? scales[(r0 + i) * stride + g] : 0;
    }
  }
}

}  // namespace gossamer::kernels::cpu
