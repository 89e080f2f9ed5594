// The AVX-512 attention tiles (kernels/cpu/avx512/attention_tile.cpp) bit for bit against
// a scalar model of what every lane computes: the key tile widened (bf16 -> f32 is the top
// half) and transposed, scores as fused multiply-adds over the head in order then one
// multiply by the scale, the value update as fused multiply-adds over the keys in order.
// The AVX2 tiles (kernels/cpu/attention_tile.h) compute exactly the same, so the engine's
// output does not depend on which path ran; the varlen tests check both against the
// double-precision oracle. Head sizes: 64 (gpt-oss), and ragged ones (20, 36, 80).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <vector>

#include "core/dtype.h"
#include "kernels/cpu/attention_tile.h"
#include "kernels/cpu/attention_tile_avx512.h"
#include "kernels/cpu/isa.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {

constexpr int kKeys = 16;

bool avx512() { return cpu::isa_supported(cpu::Isa::kAvx512, cpu::cpu_features()); }

uint32_t bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
}

float widened(uint16_t h) {
  const uint32_t u = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}

// The first 64-byte-aligned float of v (which has 16 floats to spare for it).
float* aligned64(std::vector<float>& v) {
  return v.data() + (64 - reinterpret_cast<uintptr_t>(v.data()) % 64) % 64 / sizeof(float);
}

class AttentionTileTest : public ::testing::TestWithParam<int> {};

TEST_P(AttentionTileTest, KeyTileIsTheTransposeOfTheRows) {
  if (!avx512()) GTEST_SKIP() << "no AVX-512";
  const int64_t d = GetParam();
  const auto kf = test::random_vec(size_t(kKeys * d), 1);
  std::vector<uint16_t> kh(kf.size());
  for (size_t i = 0; i < kf.size(); ++i) kh[i] = f32_to_bf16(kf[i]).bits;
  for (bool bf16 : {false, true}) {
    const void* rows[kKeys];
    for (int j = 0; j < kKeys; ++j)
      rows[j] = bf16 ? static_cast<const void*>(kh.data() + j * d) : static_cast<const void*>(kf.data() + j * d);
    std::vector<float> kt(size_t((d + 15) / 16 * 16 * kKeys) + 16, -1.f);
    float* at = aligned64(kt);
    cpu::attention_key_tile_avx512(rows, bf16, d, at);
    for (int64_t i = 0; i < d; ++i)
      for (int j = 0; j < kKeys; ++j) {
        const float want = bf16 ? widened(kh[size_t(j * d + i)]) : kf[size_t(j * d + i)];
        ASSERT_EQ(bits(at[i * kKeys + j]), bits(want)) << "bf16 " << bf16 << " element " << i << " key " << j;
      }
  }
}

TEST_P(AttentionTileTest, WidenedRowsAreTheTopHalves) {
  if (!avx512()) GTEST_SKIP() << "no AVX-512";
  const int64_t d = GetParam(), stride = (d + 7) / 8 * 8;
  std::vector<uint16_t> h(size_t(kKeys * d));
  for (size_t i = 0; i < h.size(); ++i) h[i] = uint16_t(i * 2654435761u >> 7);  // every bit pattern class
  const uint16_t* rows[kKeys];
  for (int j = 0; j < kKeys; ++j) rows[j] = h.data() + j * d;
  std::vector<float> out(size_t(kKeys * stride), 7.f);
  cpu::attention_widen_rows_avx512(rows, kKeys, d, out.data(), stride);
  for (int j = 0; j < kKeys; ++j) {
    for (int64_t i = 0; i < d; ++i)
      ASSERT_EQ(bits(out[size_t(j * stride + i)]), uint32_t(h[size_t(j * d + i)]) << 16) << j << "," << i;
    for (int64_t i = d; i < stride; ++i) ASSERT_EQ(out[size_t(j * stride + i)], 7.f) << "wrote past the row";
  }
}

TEST_P(AttentionTileTest, ScoresAndValueUpdateMatchTheLaneModel) {
  if (!avx512()) GTEST_SKIP() << "no AVX-512";
  const int64_t d = GetParam(), dp = (d + 7) / 8 * 8;
  for (int64_t rows : {1, 3, 4, 8, 9, 13}) {
    const auto q = test::random_vec(size_t(rows * d), 2);
    const auto ktv = test::random_vec(size_t(d * kKeys) + 16, 3);
    std::vector<float> kt_store(ktv.size() + 16);
    float* kt = aligned64(kt_store);
    std::copy_n(ktv.begin(), d * kKeys, kt);
    std::vector<const float*> qrows(static_cast<size_t>(rows));
    for (int64_t r = 0; r < rows; ++r) qrows[size_t(r)] = q.data() + r * d;
    std::vector<float> s_store(size_t(rows * kKeys) + 16);
    float* s = aligned64(s_store);
    const float scale = 0.125f;
    cpu::attention_scores_avx512(qrows.data(), rows, kt, d, scale, s);
    for (int64_t r = 0; r < rows; ++r)
      for (int j = 0; j < kKeys; ++j) {
        float acc = 0.f;
        for (int64_t i = 0; i < d; ++i) acc = std::fma(q[size_t(r * d + i)], kt[i * kKeys + j], acc);
        ASSERT_EQ(bits(s[r * kKeys + j]), bits(acc * scale)) << "score, rows " << rows << ", row " << r;
      }
    // The AVX2 tile, one row at a time, computes the same lanes.
    std::vector<float> s2_store(size_t(rows * kKeys) + 16);
    float* s2 = aligned64(s2_store);
    for (int64_t r = 0; r < rows; ++r) cpu::tile::scores<1>(qrows.data() + r, kt, d, scale, s2 + r * kKeys);
    ASSERT_EQ(std::memcmp(s, s2, sizeof(float) * size_t(rows * kKeys)), 0) << "AVX2 scores, rows " << rows;

    const auto v = test::random_vec(size_t(kKeys * d), 4);
    const float* vrows[kKeys];
    for (int j = 0; j < kKeys; ++j) vrows[j] = v.data() + j * d;
    const auto o0 = test::random_vec(size_t(rows * dp), 5);
    for (int nk : {16, 5}) {
      std::vector<float> o = o0;
      cpu::attention_accumulate_avx512(o.data(), dp, rows, s, vrows, nk, d);
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < dp; ++c) {
          float acc = o0[size_t(r * dp + c)];
          if (c < d)
            for (int j = 0; j < nk; ++j) acc = std::fma(s[r * kKeys + j], v[size_t(j * d + c)], acc);
          ASSERT_EQ(bits(o[size_t(r * dp + c)]), bits(acc)) << "value update, rows " << rows << ", keys " << nk
                                                            << ", row " << r << ", column " << c;
        }
      // The AVX2 tile, 8 columns at a time, the ragged end masked.
      std::vector<float> o2_store(o0.size() + 16);
      float* o2 = aligned64(o2_store);
      std::copy(o0.begin(), o0.end(), o2);
      const __m256i tail = _mm256_cmpgt_epi32(_mm256_set1_epi32(int(d % 8)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t c = 0; c < d; c += 8) {
          if (c + 8 <= d) cpu::tile::accumulate<1, 1, false>(o2 + r * dp, dp, s + r * kKeys, vrows, nk, c, tail);
          else cpu::tile::accumulate<1, 1, true>(o2 + r * dp, dp, s + r * kKeys, vrows, nk, c, tail);
        }
      ASSERT_EQ(std::memcmp(o.data(), o2, sizeof(float) * o.size()), 0) << "AVX2 value update, rows " << rows;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(HeadSizes, AttentionTileTest, ::testing::Values(64, 20, 36, 80));

}  // namespace
}  // namespace gossamer::kernels
