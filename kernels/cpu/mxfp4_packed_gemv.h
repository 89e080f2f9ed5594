#pragma once
// The AVX2 GEMV on packed experts (kernels/cpu/mxfp4_int8.h), written once for its two
// dot-product forms: vpmaddubsw + vpmaddwd (every AVX2 CPU; kernels/cpu/mxfp4_packed_avx2.cpp)
// and AVX-VNNI's 256-bit vpdpbusd (kernels/cpu/mxfp4_packed_avxvnni.cpp, built with
// -mavxvnni). Everything here has internal linkage: each of the two units gets its own
// copy, compiled with its own flags, so no VNNI code can stand in for the other's.
//
// Per group of 16 rows and block: 8 chunks of 32 bytes; a chunk's low nibbles are rows 0-7
// and its high nibbles rows 8-15, 4 k's per row in each dword lane, so after the vpshufb
// every int32 lane accumulates one row. Both dot forms give the same int32 sums (exact),
// hence the same floats.
#include <immintrin.h>

#include <cstdint>
#include <cstring>

#include "kernels/cpu/mxfp4_int8.h"

namespace gossamer::kernels::cpu {
namespace {

constexpr int64_t kPackedAvx2PrefetchBytes = 4096;  // as the AVX-512 kernel (16 blocks of 16 rows ahead)

// 0.5 * 2^(e-127) for 8 e8m0 bytes (see half_scales in kernels/cpu/avx512/mxfp4_packed.cpp).
inline __m256 packed_half_scales8(const uint8_t* e8m0) {
  const __m256i e = _mm256_cvtepu8_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(e8m0)));
  const __m256i biased = _mm256_max_epi32(_mm256_sub_epi32(e, _mm256_set1_epi32(1)), _mm256_setzero_si256());
  return _mm256_castsi256_ps(_mm256_slli_epi32(biased, 23));
}

// Dot: kChunks (chunks per step) and static void add(__m256i& lo, __m256i& hi, const
// __m256i* w_lo, const __m256i* w_hi, const int32_t* quads): lo/hi += the 4-product dots of
// kChunks chunks' rows with their quads. Fewer chunks per step keep every token's two
// accumulators in registers (16 ymm) up to 6 tokens (bench_kernels, 32 experts x 64 rows:
// 6 tokens per pass 183-205 GFLOP/s, 4 per pass 170-190: the decode is shared by more).
template <class Dot, int T>
void packed_gemv_group(const PackedGemvJob& j, int64_t grp, float* res, int64_t valid) {
  const __m256i lut = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(kInt8WeightCodes)));
  const __m256i low_nibbles = _mm256_set1_epi8(0x0f);
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
    for (int l = 0; l < 4; ++l)
      _mm_prefetch(reinterpret_cast<const char*>(cb) + kPackedAvx2PrefetchBytes + 64 * l, _MM_HINT_T0);
    __m256i d_lo[T], d_hi[T];
    for (int t = 0; t < T; ++t) d_lo[t] = d_hi[t] = _mm256_set1_epi32(corr[t][g]);
    constexpr int K = Dot::kChunks;
    for (int step = 0; step < 8; step += K) {
      __m256i w_lo[K], w_hi[K];
      for (int c = 0; c < K; ++c) {
        const __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(cb + 32 * (step + c)));
        w_lo[c] = _mm256_shuffle_epi8(lut, _mm256_and_si256(v, low_nibbles));
        w_hi[c] = _mm256_shuffle_epi8(lut, _mm256_and_si256(_mm256_srli_epi16(v, 4), low_nibbles));
      }
      for (int t = 0; t < T; ++t) {
        int32_t quads[K];
        std::memcpy(quads, q[t] + g * 32 + 4 * step, sizeof quads);
        Dot::add(d_lo[t], d_hi[t], w_lo, w_hi, quads);
      }
    }
    const __m256 ws_lo = packed_half_scales8(sc + g * kInt8GroupRows);
    const __m256 ws_hi = packed_half_scales8(sc + g * kInt8GroupRows + 8);
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

template <class Dot, int T>
void packed_gemv_groups(const PackedGemvJob& j, int64_t o0, int64_t o1) {
  for (int64_t o = o0; o < o1; o += kInt8GroupRows)
    packed_gemv_group<Dot, T>(j, o / kInt8GroupRows, j.res + (o - o0),
                              o1 - o < kInt8GroupRows ? o1 - o : kInt8GroupRows);
}

template <class Dot>
void packed_gemv_rows(const PackedGemvJob& job, int64_t o0, int64_t o1) {
  switch (job.tokens) {
    case 1: return packed_gemv_groups<Dot, 1>(job, o0, o1);
    case 2: return packed_gemv_groups<Dot, 2>(job, o0, o1);
    case 3: return packed_gemv_groups<Dot, 3>(job, o0, o1);
    case 4: return packed_gemv_groups<Dot, 4>(job, o0, o1);
    case 5: return packed_gemv_groups<Dot, 5>(job, o0, o1);
    default: return packed_gemv_groups<Dot, 6>(job, o0, o1);
  }
  static_assert(kPackedGemvMaxTokens == 6, "the switch covers every token count");
}

}  // namespace
}  // namespace gossamer::kernels::cpu
