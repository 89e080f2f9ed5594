#pragma once
// MXFP4 decoding shared by the CPU kernels (AVX2): twice every e2m1 value is a small
// integer (0, 1, 2, 3, 4, 6, 8, 12 and negatives), so one vpshufb per 16 nibbles turns a
// block's codes into int8 "2x values" that widen to f32 exactly; the block's scale/2 (a
// power of two, so exact too) is applied once per block.
#include <immintrin.h>

#include <array>
#include <cstdint>

#include "core/mxfp4.h"

namespace gossamer::kernels::cpu {

// 2^(s - 127) for every scale byte, so the hot loops do a load, not an ldexp.
inline const std::array<float, 256>& mxfp4_scale_table() {
  static const std::array<float, 256> t = [] {
    std::array<float, 256> a{};
    for (int s = 0; s < 256; ++s) a[size_t(s)] = e8m0_to_f32(uint8_t(s));
    return a;
  }();
  return t;
}

// Decodes one 16-byte block into 32 floats (2x the e2m1 values) in v[0..3].
inline void mxfp4_decode_block_x2(const uint8_t* blk, __m256 (&v)[4]) {
  const __m128i lut2 = _mm_setr_epi8(0, 1, 2, 3, 4, 6, 8, 12, 0, -1, -2, -3, -4, -6, -8, -12);
  const __m128i b = _mm_loadu_si128(reinterpret_cast<const __m128i*>(blk));
  const __m128i lo = _mm_shuffle_epi8(lut2, _mm_and_si128(b, _mm_set1_epi8(0x0f)));
  const __m128i hi = _mm_shuffle_epi8(lut2, _mm_and_si128(_mm_srli_epi16(b, 4), _mm_set1_epi8(0x0f)));
  // Element j: low nibble of byte j/2 when j is even, high nibble when odd.
  const __m128i e0 = _mm_unpacklo_epi8(lo, hi);  // elements 0..15
  const __m128i e1 = _mm_unpackhi_epi8(lo, hi);  // elements 16..31
  v[0] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e0));
  v[1] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e0, 8)));
  v[2] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(e1));
  v[3] = _mm256_cvtepi32_ps(_mm256_cvtepi8_epi32(_mm_srli_si128(e1, 8)));
}

inline float hsum8(__m256 v) {
  __m128 s = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps(v, 1));
  s = _mm_add_ps(s, _mm_movehl_ps(s, s));
  s = _mm_add_ss(s, _mm_movehdup_ps(s));
  return _mm_cvtss_f32(s);
}

}  // namespace gossamer::kernels::cpu
