// AVX-512 VNNI kernels on expert weights repacked at load (the packed layout of
// kernels/cpu/mxfp4_int8.h; precision fast). Same rules as every file here: compiled with
// AVX-512 flags, called only after kernels/cpu/isa.h found AVX-512 and VNNI, internal
// linkage, no dynamic initialisers.
//
// Why a packed layout: in the stored layout a 64-byte vector of decoded weights holds two
// blocks of one row, so every vpdpbusd is followed by a convert, a scale product and an FMA
// on 16 lanes that hold only two blocks' partial sums: about 11 vector instructions per
// 32 weight bytes and row, which caps the decode GEMV near 15 GB/s on one core with two
// hyperthreads (docs/PERFORMANCE.md). In the packed layout a vector holds 4 k's of 16 rows,
// so the int32 lanes accumulate whole blocks of 16 rows: per block of 16 rows, 8 chunks
// decode in 3 instructions each, and each token adds 8 vpdpbusd and 3 float instructions,
// about 4.6 instructions per 32 bytes at one token, which streams at DRAM speed.
#pragma GCC diagnostic ignored "-Wuninitialized"
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <immintrin.h>

#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cpu/mxfp4_int8.h"

namespace gossamer::kernels::cpu {
namespace {

// The inverse of kInt8WeightCodes for the packer: decoded byte v (v < 16 in the first table, v - 16 in the
// second) -> its code. 12 maps to code 0 (+0; -0 decodes to the same byte and value).
alignas(16) constexpr int8_t kValueToCodeLow[16] = {15, 0, 0, 0, 14, 0, 13, 0, 12, 11, 10, 9, 0, 1, 2, 3};
alignas(16) constexpr int8_t kValueToCodeHigh[16] = {4, 0, 5, 0, 6, 0, 0, 0, 7, 0, 0, 0, 0, 0, 0, 0};
constexpr int64_t kPrefetchBytes = 4096;  // 16 blocks of 16 rows ahead (bench_kernels: 1024 B 23 GB/s, 4096 B 28)

struct Decoder {
  __m512i lut = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kInt8WeightCodes)));
  __m512i low_nibbles = _mm512_set1_epi8(0x0f);
  // One chunk (32 bytes) -> the decoded 64-byte line: low nibbles (rows 0-7) in the lower
  // half, high nibbles (rows 8-15) in the upper half.
  __m512i chunk(const uint8_t* p) const {
    __m512i z = _mm512_broadcast_i64x4(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(p)));
    z = _mm512_mask_srli_epi16(z, __mmask32{0xffff0000u}, z, 4);
    return _mm512_shuffle_epi8(lut, _mm512_and_si512(z, low_nibbles));
  }
};

// 0.5 * 2^(e-127) per row of one (group, block) from its 16 e8m0 bytes: float bits
// (e - 1) << 23, exact for e in 2..254; e of 0 or 1 gives 0 (instead of 2^-128 or
// 2^-127) and 255 (NaN in e8m0) gives 2^127. The 0.5 undoes the "2 x value" bytes.
inline __m512 half_scales(const uint8_t* e8m0) {
  const __m512i e = _mm512_cvtepu8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(e8m0)));
  const __m512i biased = _mm512_max_epi32(_mm512_sub_epi32(e, _mm512_set1_epi32(1)), _mm512_setzero_si512());
  return _mm512_castsi512_ps(_mm512_slli_epi32(biased, 23));
}

template <int T>
void gemv_group(const PackedGemvJob& j, int64_t grp, float* res, __mmask16 valid) {
  const Decoder dec;
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
  __m512 acc[T];
#pragma GCC unroll 8
  for (int t = 0; t < T; ++t) acc[t] = _mm512_setzero_ps();
  for (int64_t g = 0; g < j.nb; ++g) {
    const uint8_t* cb = wb + g * kPackedGroupBlockBytes;
#pragma GCC unroll 4
    for (int l = 0; l < 4; ++l) _mm_prefetch(reinterpret_cast<const char*>(cb) + kPrefetchBytes + 64 * l, _MM_HINT_T0);
    __m512i w[8];
#pragma GCC unroll 8
    for (int c = 0; c < 8; ++c) w[c] = dec.chunk(cb + 32 * c);
    const __m512 ws = half_scales(sc + g * kInt8GroupRows);
#pragma GCC unroll 8
    for (int t = 0; t < T; ++t) {
      int32_t quads[8];
      std::memcpy(quads, q[t] + g * 32, sizeof quads);
      // Two chains of four: the two halves of the block's sum overlap in the pipeline.
      __m512i d0 = _mm512_set1_epi32(corr[t][g]), d1 = _mm512_setzero_si512();
#pragma GCC unroll 4
      for (int c = 0; c < 8; c += 2) {
        d0 = _mm512_dpbusd_epi32(d0, w[c], _mm512_set1_epi32(quads[c]));
        d1 = _mm512_dpbusd_epi32(d1, w[c + 1], _mm512_set1_epi32(quads[c + 1]));
      }
      acc[t] = _mm512_fmadd_ps(_mm512_cvtepi32_ps(_mm512_add_epi32(d0, d1)),
                               _mm512_mul_ps(ws, _mm512_set1_ps(xs[t][g])), acc[t]);
    }
  }
  for (int t = 0; t < T; ++t) _mm512_mask_storeu_ps(res + t * j.res_ld, valid, acc[t]);
}

template <int T>
void gemv_groups(const PackedGemvJob& j, int64_t o0, int64_t o1) {
  for (int64_t o = o0; o < o1; o += kInt8GroupRows) {
    const int64_t n = o1 - o < kInt8GroupRows ? o1 - o : kInt8GroupRows;
    gemv_group<T>(j, o / kInt8GroupRows, j.res + (o - o0), __mmask16((1u << n) - 1u));
  }
}

}  // namespace

void packed_gemv_rows_avx512(const PackedGemvJob& job, int64_t o0, int64_t o1) {
  switch (job.tokens) {
    case 1: return gemv_groups<1>(job, o0, o1);
    case 2: return gemv_groups<2>(job, o0, o1);
    case 3: return gemv_groups<3>(job, o0, o1);
    case 4: return gemv_groups<4>(job, o0, o1);
    case 5: return gemv_groups<5>(job, o0, o1);
    default: return gemv_groups<6>(job, o0, o1);
  }
  static_assert(kPackedGemvMaxTokens == 6, "the switch covers every token count");
}

void decode_tile_packed_avx512(const uint8_t* packed, int64_t groups, int64_t nb, int64_t o0, int64_t o1,
                               uint8_t* dst, float* wscale) {
  const Decoder dec;
  const uint8_t* scales = packed + groups * nb * kPackedGroupBlockBytes;
  for (int64_t grp = o0 / kInt8GroupRows, i = 0; grp * kInt8GroupRows < o1; ++grp, ++i) {
    const uint8_t* wb = packed + grp * nb * kPackedGroupBlockBytes;
    const uint8_t* sc = scales + grp * nb * kInt8GroupRows;
    uint8_t* d = dst + i * nb * kInt8GroupBytes;
    float* ws = wscale + i * nb * kInt8GroupRows;
    for (int64_t g = 0; g < nb; ++g) {
#pragma GCC unroll 8
      for (int c = 0; c < 8; ++c)
        _mm512_storeu_si512(d + g * kInt8GroupBytes + c * 64, dec.chunk(wb + g * kPackedGroupBlockBytes + 32 * c));
      _mm512_storeu_ps(ws + g * kInt8GroupRows, half_scales(sc + g * kInt8GroupRows));
    }
  }
}

void pack_groups_avx512(const uint8_t* blocks, const uint8_t* scales, int64_t stride, int64_t nb, int64_t out,
                        int64_t g0, int64_t g1, const float* scale_table, uint8_t* dst) {
  const int64_t groups = (out + kInt8GroupRows - 1) / kInt8GroupRows;
  const __m512i to_low = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kValueToCodeLow)));
  const __m512i to_high = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(kValueToCodeHigh)));
  // One group decoded by the stored-layout tile decoder (which does the transpose), then
  // each 64-byte line turned back into codes and folded into 32 bytes.
  std::vector<uint8_t> tile(static_cast<size_t>(nb * kInt8GroupBytes));
  std::vector<float> tile_scale(static_cast<size_t>(nb * kInt8GroupRows));
  for (int64_t grp = g0; grp < g1; ++grp) {
    const int64_t r0 = grp * kInt8GroupRows, r1 = r0 + kInt8GroupRows < out ? r0 + kInt8GroupRows : out;
    decode_tile_int8_avx512(blocks, scales, stride, nb, r0, r1, scale_table, tile.data(), tile_scale.data());
    uint8_t* wb = dst + grp * nb * kPackedGroupBlockBytes;
    uint8_t* sc = dst + groups * nb * kPackedGroupBlockBytes + grp * nb * kInt8GroupRows;
    for (int64_t g = 0; g < nb; ++g) {
      for (int c = 0; c < 8; ++c) {
        const __m512i v = _mm512_loadu_si512(tile.data() + g * kInt8GroupBytes + c * 64);
        const __mmask64 high = _mm512_cmpge_epu8_mask(v, _mm512_set1_epi8(16));
        const __m512i code = _mm512_mask_shuffle_epi8(_mm512_shuffle_epi8(to_low, v), high, to_high,
                                                      _mm512_sub_epi8(v, _mm512_set1_epi8(16)));
        const __m256i rows_lo = _mm512_castsi512_si256(code), rows_hi = _mm512_extracti64x4_epi64(code, 1);
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(wb + g * kPackedGroupBlockBytes + 32 * c),
                            _mm256_or_si256(rows_lo, _mm256_slli_epi16(rows_hi, 4)));
      }
      for (int64_t i = 0; i < kInt8GroupRows; ++i) sc[g * kInt8GroupRows + i] = r0 + i < r1 ? scales[(r0 + i) * stride + g] : 0;
    }
  }
}

}  // namespace gossamer::kernels::cpu
