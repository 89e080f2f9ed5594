// The bf16 tile decode of the exact expert GEMM, AVX-512 (kernels/cpu/mxfp4_tile.h).
// Compiled with AVX-512 flags and only called after kernels/cpu/isa.h found AVX-512;
// internal linkage only.
//
// Per block: the 16 e2m1 values times the block's power of two (one f32 multiply of the
// table, then the top halves narrowed to 16 bf16 words), and one vpermw looks up all 32
// codes at once: widening the 16 bytes to dwords puts byte j's low nibble in the low word
// of lane j and, after a shift, its high nibble in the high word, which is exactly the
// element order 2j, 2j + 1 of the block. About 9 instructions per block where the AVX2
// decode (kernels/cpu/mxfp4_avx2.h, then scale, narrow and re-order) takes ~30.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/cpu/mxfp4_tile.h"

#include <immintrin.h>

#include "kernels/cpu/mxfp4_gemv.h"

namespace gossamer::kernels::cpu {

void decode_tile_bf16_avx512(const uint8_t* blocks, const uint8_t* scales, int64_t stride, int64_t nb, int64_t o0,
                             int64_t o1, uint16_t* dst, const float* scale_table) {
  const __m512 table = _mm512_load_ps(kE2m1Values);
  const __m512i low_nibbles = _mm512_set1_epi32(0x0f), high_nibbles = _mm512_set1_epi32(0xf0);
  for (int64_t o = o0; o < o1; ++o) {
    const uint8_t* row_blocks = blocks + o * stride * 16;
    const uint8_t* row_scales = scales + o * stride;
    uint16_t* d = dst + (o - o0) * nb * 32;
    for (int64_t g = 0; g < nb; ++g) {
      // The scaled table as bf16 words 0-15 (words 16-31 are never indexed: codes < 16).
      const __m512 scaled = _mm512_mul_ps(table, _mm512_set1_ps(scale_table[row_scales[g]]));
      const __m512i words = _mm512_castsi256_si512(_mm512_cvtepi32_epi16(_mm512_srli_epi32(_mm512_castps_si512(scaled), 16)));
      const __m512i bytes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(row_blocks + g * 16)));
      const __m512i codes = _mm512_or_si512(_mm512_and_si512(bytes, low_nibbles),
                                            _mm512_slli_epi32(_mm512_and_si512(bytes, high_nibbles), 12));
      _mm512_storeu_si512(d + g * 32, _mm512_permutexvar_epi16(codes, words));
    }
  }
}

}  // namespace gossamer::kernels::cpu
