// MXFP4 GEMV for decode steps, AVX-512 (kernels/cpu/mxfp4_gemv.h). Compiled with AVX-512
// flags and only called after kernels/cpu/isa.h found AVX-512; internal linkage only and
// no header with inline code, so nothing here can be picked for an AVX2-only caller.
//
// vpermps looks up 16 codes at once in the 16-entry table of e2m1 values (zmm holds the
// whole table), so a block decodes in four instructions: widen the 16 bytes to dwords, two
// lookups, one of them after a shift that brings the high nibbles down (vpermps reads only
// bits 0-3 of each index, so the low nibbles need no mask). The lookups read a copy of the
// table multiplied by the block's power of two (one multiply, exact), so each token costs
// two FMAs per block: before, it cost a multiply and two FMAs, the table being unscaled.
// bench_kernels, exact, 2 threads: 32 experts x 2 rows 80 -> 130 GFLOP/s; 4 rows (the
// decoded tile before) 67 -> 127; 6 rows 84-90 -> 96-105; decode GEMV 19.3 -> 21.2 GB/s.
// Up to 6 tokens per call, two rows at a time (2 x 6 x 2 accumulators: a few spill at 6,
// and 6 tokens' inputs, 69 KB, no longer fit L1, so 6 rows gain less than 2 and 4).
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>

#include "kernels/cpu/mxfp4_gemv.h"

namespace gossamer::kernels::cpu {
namespace {

// Bytes ahead of the current block that each row prefetches (two rows stream at once). A
// line lasts 4 blocks x ~4 cycles here, so 512 B was only ~130 ns ahead, about one DRAM
// latency: bench_kernels' expert decode GEMV from DRAM read 12.6 GB/s with 512 B, 17.6 with
// 2 KB and 19.3 with 4 or 8 KB (its compute limit, 19-21 GB/s with the weights in L3).
constexpr int64_t kPrefetchBytes = 4096;

template <int NR, int T>
void rows(const Mxfp4GemvJob& j, int64_t r, int64_t r_begin) {
  const __m512 table = _mm512_load_ps(kE2m1Values);
  __m512 acc[NR][T][2];
#pragma GCC unroll 2
  for (int i = 0; i < NR; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) acc[i][t][0] = acc[i][t][1] = _mm512_setzero_ps();
  for (int64_t g = 0; g < j.nb; ++g) {
#pragma GCC unroll 2
    for (int i = 0; i < NR; ++i) {
      const int64_t at = (r + i) * j.stride + g;
      const uint8_t* blk = j.blocks + at * 16;
      if ((g & 3) == 0) _mm_prefetch(reinterpret_cast<const char*>(blk) + kPrefetchBytes, _MM_HINT_T0);
      const __m512i codes = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(blk)));
      // The table times the block's power of two (exact): each token then costs two FMAs.
      const __m512 scaled = _mm512_mul_ps(table, _mm512_set1_ps(j.scale_table[j.scales[at]]));
      const __m512 even = _mm512_permutexvar_ps(codes, scaled);
      const __m512 odd = _mm512_permutexvar_ps(_mm512_srli_epi32(codes, 4), scaled);
#pragma GCC unroll 8
      for (int t = 0; t < T; ++t) {
        const float* xp = j.xs[t] + g * 32;
        acc[i][t][0] = _mm512_fmadd_ps(even, _mm512_loadu_ps(xp), acc[i][t][0]);
        acc[i][t][1] = _mm512_fmadd_ps(odd, _mm512_loadu_ps(xp + 16), acc[i][t][1]);
      }
    }
  }
#pragma GCC unroll 2
  for (int i = 0; i < NR; ++i)
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t)
      j.res[t * j.res_ld + (r + i - r_begin)] = _mm512_reduce_add_ps(_mm512_add_ps(acc[i][t][0], acc[i][t][1]));
}

template <int T>
void rows_for_tokens(const Mxfp4GemvJob& j, int64_t r_begin, int64_t r_end) {
  // Two rows at a time for every token count: at 5-6 tokens a few of the 2 x T x 2
  // accumulators spill, which still beat one row at a time (6 rows: 96-105 vs 65 GFLOP/s).
  int64_t r = r_begin;
  for (; r + 2 <= r_end; r += 2) rows<2, T>(j, r, r_begin);
  if (r < r_end) rows<1, T>(j, r, r_begin);
}

}  // namespace

void mxfp4_gemv_rows_avx512(const Mxfp4GemvJob& job, int64_t r_begin, int64_t r_end) {
  switch (job.tokens) {
    case 1: return rows_for_tokens<1>(job, r_begin, r_end);
    case 2: return rows_for_tokens<2>(job, r_begin, r_end);
    case 3: return rows_for_tokens<3>(job, r_begin, r_end);
    case 4: return rows_for_tokens<4>(job, r_begin, r_end);
    case 5: return rows_for_tokens<5>(job, r_begin, r_end);
    default: return rows_for_tokens<6>(job, r_begin, r_end);
  }
  static_assert(kMxfp4GemvMaxTokens == 6, "the switch covers every token count");
}

}  // namespace gossamer::kernels::cpu
