// AVX512-BF16 kernel of the bf16 dense linear for Precision::kFast: the activations are
// rounded to bf16 once per call and every 64-byte line of a weight row meets the matching
// 32 bf16 inputs in one _mm512_dpbf16ps (16 lanes x 2 products into f32), where the exact
// kernel (dense_bf16.cpp) needs a shift, an AND and two FMAs for the same 32 products.
// bf16 weights sit in memory as pairs (w[2j], w[2j+1]) per 32-bit lane, which is exactly
// the operand layout of dpbf16ps, so neither side is repacked: x only needs the rounding.
// Products of two bf16 are exact in f32; the sums are f32 like the exact kernel's.
//
// The blocking is dense_bf16.cpp's (kernels/cpu/avx512/dense_tiles.h); bf16 x being half
// the bytes, a k-chunk holds twice the inputs (a 6-token group of 2880 is 34 KB, still
// chunked).
// Only called after kernels/cpu/isa.h found AVX-512 F/BW/VL and avx512_bf16.
//
// Measured on the 2.3 GHz Xeon this was tuned on (bench_dense, interleaved with the exact
// kernel): decode shapes stream a little faster (n = 1: +2-4% GB/s, the loop issues fewer
// instructions per line), but from n = 4 on this is ~15% slower than the FMA kernel: there
// vdpbf16ps zmm issues on one port while FMAs use two, so 32 products cost a cycle either
// way. The driver therefore sends only n <= fast_dp_max_tokens() here (kernels/cpu/linear.h).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/avx512/dense_tiles.h"
#include "kernels/cpu/dense_rows.h"

namespace gossamer::kernels::cpu {
namespace {

// One dpbf16ps per line and token: 16 lanes x 2 bf16 products into the f32 accumulators.
struct DotBf16 {
  using X = uint16_t;
  static constexpr int64_t kBlock = kAvx512Bf16Block;
  // 6 tokens x 1024 bf16 inputs = 12 KB of x per chunk: stays in L1 next to the weights.
  static constexpr int64_t kChunkInputs = 1024;
  static const X* x_rows(const DenseRows& j) { return j.xb; }

  template <int R, int T>
  static inline __attribute__((always_inline)) void line(__m512 (&acc)[R][T], const __m512i (&lanes)[R],
                                                         const X* x, int64_t xs, int64_t c) {
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      const __m512bh xv = (__m512bh)_mm512_loadu_si512(x + t * xs + c);
#pragma GCC unroll 8
      for (int r = 0; r < R; ++r) acc[r][t] = _mm512_dpbf16_ps(acc[r][t], (__m512bh)lanes[r], xv);
    }
  }
};

}  // namespace

void round_rows_bf16_avx512(const float* x, int64_t n, int64_t in, uint16_t* xb, int64_t xb_stride) {
  for (int64_t t = 0; t < n; ++t) {
    const float* src = x + t * in;
    uint16_t* dst = xb + t * xb_stride;
    int64_t c = 0;
    // vcvtneps2bf16 rounds to nearest even (NaN stays NaN), like f32_to_bf16 in core/dtype.h.
    for (; c + 16 <= in; c += 16)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(dst + c), (__m256i)_mm512_cvtneps_pbh(_mm512_loadu_ps(src + c)));
    if (c < in) {
      const __mmask16 m = _cvtu32_mask16((1u << (in - c)) - 1);
      const __m256i h = (__m256i)_mm512_cvtneps_pbh(_mm512_maskz_loadu_ps(m, src + c));
      _mm256_mask_storeu_epi16(dst + c, m, h);
      c = in;
    }
    for (; c < xb_stride; ++c) dst[c] = 0;
  }
}

void dense_bf16_dp_rows_avx512(const DenseRows& j, int64_t row_begin, int64_t row_end) {
  dense_rows<DotBf16>(j, row_begin, row_end);
}

}  // namespace gossamer::kernels::cpu
