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
// 127 = 6096, so four of them add in int16 before one vpmaddwd (no saturation). CPUs with
// AVX-VNNI take its vpdpbusd instead (kernels/cpu/mxfp4_packed_avxvnni.cpp); the GEMV
// itself is kernels/cpu/mxfp4_packed_gemv.h.
// The same kernel serves prefill: an expert's rows go through it 6 at a time against a
// 32-row slice of weights that stays in L1/L2 (kernels/cpu/grouped_mxfp4.cpp).
#include "kernels/cpu/isa.h"
#include "kernels/cpu/mxfp4_packed_gemv.h"

namespace gossamer::kernels::cpu {
namespace {

// vpmaddubsw + vpmaddwd: four chunks' int16 pair sums add before one vpmaddwd (below
// 4 x 6096, no saturation).
struct MaddubsDot {
  static constexpr int kChunks = 4;
  static void add(__m256i& lo, __m256i& hi, const __m256i* w_lo, const __m256i* w_hi, const int32_t* quads) {
    const __m256i ones = _mm256_set1_epi16(1);
    __m256i s_lo = _mm256_maddubs_epi16(w_lo[0], _mm256_set1_epi32(quads[0]));
    __m256i s_hi = _mm256_maddubs_epi16(w_hi[0], _mm256_set1_epi32(quads[0]));
    for (int c = 1; c < 4; ++c) {
      const __m256i x4 = _mm256_set1_epi32(quads[c]);
      s_lo = _mm256_add_epi16(s_lo, _mm256_maddubs_epi16(w_lo[c], x4));
      s_hi = _mm256_add_epi16(s_hi, _mm256_maddubs_epi16(w_hi[c], x4));
    }
    lo = _mm256_add_epi32(lo, _mm256_madd_epi16(s_lo, ones));
    hi = _mm256_add_epi32(hi, _mm256_madd_epi16(s_hi, ones));
  }
};

// e2m1 code -> the packed layout's code for the same value: -0 (code 8) becomes +0, as
// the AVX-512 packer's round trip through the decoded bytes makes it.
inline uint8_t canonical_code(uint8_t code) { return code == 8 ? 0 : code; }

}  // namespace

void packed_gemv_rows_avx2_maddubs(const PackedGemvJob& job, int64_t o0, int64_t o1) {
  packed_gemv_rows<MaddubsDot>(job, o0, o1);
}

void packed_gemv_rows_avx2(const PackedGemvJob& job, int64_t o0, int64_t o1) {
  if (use_avx_vnni()) packed_gemv_rows_avxvnni(job, o0, o1);
  else packed_gemv_rows_avx2_maddubs(job, o0, o1);
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
