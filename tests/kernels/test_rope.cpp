// YaRN RoPE: the table against exact f64 values in the golden manifest (positions up to
// 131071, far past the original 4096 context), and rope_apply against the oracle.
#include <gtest/gtest.h>

#include "kernels/ref/rope.h"
#include "kernels/rope.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;
using test::rel_err;

nlohmann::json rope_reference() {
  auto bytes = test::read_bytes(test::data_path("tiny/golden/manifest.json"));
  return nlohmann::json::parse(bytes.begin(), bytes.end()).at("rope_reference");
}

RopeParams gpt_oss_params() { return RopeParams{}; }  // defaults are gpt-oss's config

TEST(RopeTable, InvFreqAndConcentrationMatchManifest) {
  auto ref = rope_reference();
  auto t = RopeTable::build(gpt_oss_params());
  auto inv = ref.at("inv_freq_f64").get<std::vector<double>>();
  ASSERT_EQ(t.inv_freq.size(), inv.size());
  for (size_t i = 0; i < inv.size(); ++i) EXPECT_NEAR(t.inv_freq[i] / inv[i], 1.0, 1e-12) << i;
  EXPECT_NEAR(t.concentration, ref.at("concentration_f64").get<double>(), 1e-15);
}

// Tolerance from the manifest: max(1e-4, 3e-7 * pos) absolute. We build angles in
// double, so the stricter 1e-6 (f32 rounding of cos*c) must hold too.
TEST(RopeTable, CosSinMatchManifestAtAllPositions) {
  auto ref = rope_reference();
  auto t = RopeTable::build(gpt_oss_params());
  auto positions = ref.at("positions").get<std::vector<int64_t>>();
  auto cos_ref = ref.at("cos_f64").get<std::vector<std::vector<double>>>();
  auto sin_ref = ref.at("sin_f64").get<std::vector<std::vector<double>>>();
  ASSERT_TRUE(std::find(positions.begin(), positions.end(), 131071) != positions.end());
  std::vector<float> c(32), s(32);
  for (size_t k = 0; k < positions.size(); ++k) {
    const int64_t p = positions[k];
    t.cos_sin(p, c.data(), s.data());
    const double tol = std::max(1e-4, 3e-7 * double(p));
    for (size_t i = 0; i < 32; ++i) {
      EXPECT_LE(std::abs(c[i] - cos_ref[k][i]), tol) << "pos " << p << " pair " << i;
      EXPECT_LE(std::abs(s[i] - sin_ref[k][i]), tol) << "pos " << p << " pair " << i;
      EXPECT_LE(std::abs(c[i] - cos_ref[k][i]), 1e-6) << "pos " << p << " pair " << i;
      EXPECT_LE(std::abs(s[i] - sin_ref[k][i]), 1e-6) << "pos " << p << " pair " << i;
    }
  }
}

TEST(RopeTable, TruncateRoundsTheRampBounds) {
  // HF's truncating variant uses lo = 8, hi = 18 (floor/ceil of 8.09 / 17.40): pair 9
  // then gets r = 0.1 instead of (9 - 8.0928) / (17.398 - 8.0928).
  RopeParams p = gpt_oss_params();
  p.truncate = true;
  auto trunc = RopeTable::build(p);
  const double b9 = std::pow(150000.0, -18.0 / 64.0);
  EXPECT_NEAR(trunc.inv_freq[9] / (b9 * 0.9 + b9 / 32 * 0.1), 1.0, 1e-12);
  auto exact = RopeTable::build(gpt_oss_params());
  const double r9 = (9 - 8.092779115512402) / (17.39802450158856 - 8.092779115512402);
  EXPECT_NEAR(exact.inv_freq[9] / (b9 * (1 - r9) + b9 / 32 * r9), 1.0, 1e-12);
  RopeParams plain = gpt_oss_params();
  plain.factor = 1.0;
  auto t1 = RopeTable::build(plain);
  EXPECT_EQ(t1.concentration, 1.0);
  EXPECT_NEAR(t1.inv_freq[31] / std::pow(150000.0, -62.0 / 64.0), 1.0, 1e-12);
}

TEST(RopeApply, MatchesReferenceFarPositions) {
  auto t = RopeTable::build(gpt_oss_params());
  const int64_t n = 17, heads = 3, d = 64;
  std::vector<int32_t> pos(n);
  const int32_t far[] = {0, 1, 7, 127, 4095, 4096, 4097, 32767, 65536, 131071};
  for (int64_t i = 0; i < n; ++i) pos[size_t(i)] = far[i % 10] + int32_t(i / 10);
  auto x = test::random_vec(size_t(n * heads * d), 3);
  auto xr = x;
  rope_apply(exec3(), x.data(), pos.data(), n, heads, t);
  ref::rope_apply(xr.data(), pos.data(), n, heads, t);
  EXPECT_LT(rel_err(x, xr), 1e-6);
}

TEST(RopeApply, HalfSplitPairingWithConcentration) {
  // One head, d = 4: pairs (0, 2) and (1, 3); only element 0 set.
  RopeParams p;
  p.head_dim = 4;
  auto t = RopeTable::build(p);
  std::vector<float> x = {1.f, 0.f, 0.f, 0.f};
  int32_t pos = 5;
  rope_apply(exec3(), x.data(), &pos, 1, 1, t);
  const double a = 5 * t.inv_freq[0], c = t.concentration;
  EXPECT_NEAR(x[0], c * std::cos(a), 1e-6);
  EXPECT_NEAR(x[2], c * std::sin(a), 1e-6);
  EXPECT_EQ(x[1], 0.f);
  EXPECT_EQ(x[3], 0.f);
}

TEST(RopeTable, RejectsOddHeadDim) {
  RopeParams p;
  p.head_dim = 7;
  EXPECT_THROW(RopeTable::build(p), Error);
}

}  // namespace
}  // namespace gossamer::kernels
