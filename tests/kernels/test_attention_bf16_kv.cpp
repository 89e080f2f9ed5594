// The batched attention ops over a bf16 paged KV cache (Precision::kFast on the CPU),
// on both ISA paths' shared tile kernel: the write must store exactly the oracle's rounding
// (bit for bit, NaN rows of unwritten positions included), attention must match the oracle
// reading the same bf16 cache as closely as the f32 kernel matches its oracle, and stay
// within the bf16 rounding bound of the exact f32 computation. Shapes: one token, gpt-oss
// heads (64 over 8 KV heads, d 64, window 128), odd head sizes, a 2k-token prefill and a
// long-context decode whose keys are split across threads.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "attention_step.h"
#include "kernels/attention.h"
#include "kernels/ref/attention.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::SeqSpec;
using test::Step;

// Same values in the cache on both sides: f32 tiles against the double oracle, the bound
// of the f32 cache (test_attention_varlen.cpp).
constexpr double kBf16KvSameCacheTol = 1e-5;
// bf16 keeps 8 significant bits: rounding to nearest moves a value by at most 2^-8 of it
// (the unit roundoff).
constexpr double kBf16KvUnit = 1.0 / 256;

std::vector<uint16_t> to_bf16(const std::vector<float>& f) {
  std::vector<uint16_t> b(f.size());
  for (size_t i = 0; i < f.size(); ++i) b[i] = f32_to_bf16(f[i]).bits;
  return b;
}

PagedKv bf16_kv(const Step& st, std::vector<uint16_t>& k, std::vector<uint16_t>& v) {
  return PagedKv{k.data(), v.data(), DType::kBF16, st.num_blocks, st.shape.block_size};
}

double max_abs_finite(const std::vector<float>& a) {
  double m = 0;
  for (float x : a)
    if (std::isfinite(x)) m = std::max(m, double(std::fabs(x)));
  return m;
}

void check_bf16_step(const Step& st, const std::string& what) {
  const auto sh = test::attention_shape(st.shape);
  const auto batch = st.batch();
  auto k_cpu = to_bf16(st.k_cache), v_cpu = to_bf16(st.v_cache), k_ref = k_cpu, v_ref = v_cpu;
  kv_cache_write_varlen(test::exec3(), bf16_kv(st, k_cpu, v_cpu), st.k_new.data(), st.v_new.data(), batch, sh);
  ref::kv_cache_write_varlen(bf16_kv(st, k_ref, v_ref), st.k_new.data(), st.v_new.data(), batch, sh);
  ASSERT_TRUE(k_cpu == k_ref && v_cpu == v_ref) << what << ": bf16 write differs from the oracle's rounding";

  std::vector<float> out(st.q.size(), -7.f), out_same(st.q.size()), out_f32(st.q.size());
  attention_varlen(test::exec3(), out.data(), st.q.data(), bf16_kv(st, k_cpu, v_cpu), batch, st.sinks.data(), sh);
  for (float x : out) ASSERT_TRUE(std::isfinite(x)) << what << ": the kernel read a row it must not";
  ref::attention_varlen(out_same.data(), st.q.data(), bf16_kv(st, k_ref, v_ref), batch, st.sinks.data(), sh);
  EXPECT_LT(test::rel_err(out, out_same), kBf16KvSameCacheTol) << what;

  // Against the exact computation on the f32 cache. Rounding K moves each logit of query
  // row q by at most delta = u * scale * sum_i |q_i| * max|k| (u = 2^-8), so each softmax
  // weight (the sink is not rounded) changes by a factor within e^(+-2 delta); rounding V
  // moves each value by at most u |v|. With sum_j p_j <= 1 every output element then moves
  // by at most max|v| * (u + (e^(2 delta) - 1)(1 + u)), plus the f32 tolerance.
  auto k_f32 = st.k_cache, v_f32 = st.v_cache;
  ref::kv_cache_write_varlen(st.kv(k_f32, v_f32), st.k_new.data(), st.v_new.data(), batch, sh);
  ref::attention_varlen(out_f32.data(), st.q.data(), st.kv(k_f32, v_f32), batch, st.sinks.data(), sh);
  const double max_k = max_abs_finite(k_f32), max_v = max_abs_finite(v_f32);
  const int64_t d = st.shape.head_dim, rows = int64_t(st.q.size()) / d;
  int64_t beyond = 0;
  for (int64_t r = 0; r < rows; ++r) {
    double q_abs = 0;
    for (int64_t i = 0; i < d; ++i) q_abs += std::fabs(st.q[size_t(r * d + i)]);
    const double delta = kBf16KvUnit * sh.sm_scale * q_abs * max_k;
    const double bound = max_v * (kBf16KvUnit + std::expm1(2 * delta) * (1 + kBf16KvUnit)) + 1e-5;
    for (int64_t i = 0; i < d; ++i)
      beyond += std::fabs(double(out[size_t(r * d + i)]) - out_f32[size_t(r * d + i)]) > bound;
  }
  EXPECT_EQ(beyond, 0) << what << ": outputs beyond the bf16 rounding bound of the f32 cache";
}

class AttentionBf16KvTest : public ::testing::TestWithParam<test::Shape> {};

TEST_P(AttentionBf16KvTest, DecodesPrefillsAndMixedSteps) {
  check_bf16_step(Step(GetParam(), {{0, 1}}, 31), "first token");
  check_bf16_step(Step(GetParam(), {{37, 1}, {200, 1}, {5, 1}}, 32), "decodes");
  check_bf16_step(Step(GetParam(), {{0, 100}, {50, 37}, {200, 1}, {17, 64}}, 33), "mixed");
  check_bf16_step(Step(GetParam(), {{300, 70}}, 34), "chunk after a cached prefix");
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionBf16KvTest,
    ::testing::Values(test::Shape{64, 8, 64, 0, 16},    // gpt-oss heads, full causal
                      test::Shape{64, 8, 64, 128, 16},  // gpt-oss heads, sliding window
                      test::Shape{8, 2, 20, 0, 4},      // head_dim not a multiple of 8
                      test::Shape{6, 3, 36, 17, 3}));   // ragged head_dim with a window

TEST(AttentionBf16Kv, LongPrefillAndLongContextDecode) {
  check_bf16_step(Step(test::Shape{8, 1, 64, 0, 16}, {{0, 2048}}, 35), "2048-token prefill");
  check_bf16_step(Step(test::Shape{8, 1, 64, 128, 16}, {{0, 1100}}, 36), "1100-token prefill, window 128");
  check_bf16_step(Step(test::Shape{8, 1, 64, 0, 16}, {{3999, 1}}, 37), "decode at 4000 (split keys)");
}

}  // namespace
}  // namespace gossamer::kernels
