// AVX-512 kernel of the bf16 dense linear (Precision::kExact). Compiled with AVX-512 flags
// (CMakeLists.txt); only ever called after kernels/cpu/isa.h found AVX-512 F/BW/VL.
// Everything here has internal linkage; the blocking (row tiles, token groups, k-chunks,
// prefetching) is kernels/cpu/avx512/dense_tiles.h, shared with the dpbf16ps kernel.
//
// Each 64-byte line of a weight row holds 32 bf16 = 16 lanes of pairs; a shift and an
// AND turn it into two f32 vectors that meet the even and odd halves of the packed x.
// GCC 12's AVX-512 headers build "undefined" vectors by self-initialisation, which its own
// -Wuninitialized then reports at every inlined shift or reduction.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/avx512/dense_tiles.h"
#include "kernels/cpu/dense_rows.h"

namespace gossamer::kernels::cpu {
namespace {

// Widen each line's even and odd bf16 halves to f32 and FMA them into every token's
// packed x (the pairs layout: per block, the even halves, then the odd ones).
struct WidenFma {
  using X = float;
  static constexpr int64_t kBlock = kAvx512PairBlock;
  // 6 tokens x 512 floats = 12 KB of x per chunk: stays in L1 (without chunks the group's x,
  // 69 KB at in = 2880, is re-read from L2 for every 4 rows: ~2 cache lines per 3 FMAs).
  static constexpr int64_t kChunkInputs = 512;
  static const X* x_rows(const DenseRows& j) { return j.x; }

  // Two phases (even halves of all R rows against all T tokens, then the odd halves) keep
  // R*T accumulators + R weights within the 32 zmm registers.
  template <int R, int T>
  static inline __attribute__((always_inline)) void line(__m512 (&acc)[R][T], const __m512i (&lanes)[R],
                                                         const X* x, int64_t xs, int64_t c) {
    const __m512i high = _mm512_set1_epi32(int(0xffff0000u));
    __m512 wv[R];
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm512_castsi512_ps(_mm512_slli_epi32(lanes[r], 16));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 xe = _mm512_loadu_ps(x + t * xs + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xe, acc[r][t]);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) wv[r] = _mm512_castsi512_ps(_mm512_and_si512(lanes[r], high));
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512 xo = _mm512_loadu_ps(x + t * xs + c + kBlock / 2);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_fmadd_ps(wv[r], xo, acc[r][t]);
    }
  }
};

}  // namespace

void dense_bf16_rows_avx512(const DenseRows& j, int64_t row_begin, int64_t row_end) {
  dense_rows<WidenFma>(j, row_begin, row_end);
}

}  // namespace gossamer::kernels::cpu
