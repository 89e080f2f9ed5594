// Sampling: greedy, top-k, top-p, temperature, and (seed, step) determinism. Statistical
// checks use fixed seeds, so they are deterministic; bounds are ~4 standard deviations.
#include <gtest/gtest.h>

#include <map>

#include "kernels/ref/sampling.h"
#include "kernels/sampling.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {

std::vector<double> frequencies(const std::vector<float>& logits, const SamplingParams& p, int steps) {
  std::vector<double> f(logits.size(), 0.0);
  for (int s = 0; s < steps; ++s) f[size_t(sample_token(logits.data(), int64_t(logits.size()), p, uint64_t(s)))] += 1.0 / steps;
  return f;
}

TEST(Sampling, GreedyIsArgmaxLowestIdOnTies) {
  auto l = test::random_vec(1000, 1);
  l[417] = 5.f;
  l[733] = 5.f;
  SamplingParams p;  // temperature 0
  for (uint64_t step = 0; step < 5; ++step) EXPECT_EQ(sample_token(l.data(), 1000, p, step), 417);
  EXPECT_EQ(ref::sample_token(l.data(), 1000, p, 0), 417);
}

TEST(Sampling, TopK1EqualsGreedy) {
  auto l = test::random_vec(5000, 2);
  l[100] = l[4000] = 9.f;  // a tie at the top too
  for (uint64_t step = 0; step < 200; ++step) {
    SamplingParams p{1.3f, 1, 1.0f, step * 7919};
    EXPECT_EQ(sample_token(l.data(), 5000, p, step), 100);
  }
}

TEST(Sampling, SeededReproducibleAndOrderIndependent) {
  auto l = test::random_vec(300, 3, -2.f, 2.f);
  SamplingParams p{1.0f, 0, 1.0f, 42};
  std::vector<int32_t> forward, backward(50);
  for (uint64_t s = 0; s < 50; ++s) forward.push_back(sample_token(l.data(), 300, p, s));
  for (int s = 49; s >= 0; --s) backward[size_t(s)] = sample_token(l.data(), 300, p, uint64_t(s));
  EXPECT_EQ(forward, backward);
  SamplingParams other = p;
  other.seed = 43;
  int differ = 0;
  for (uint64_t s = 0; s < 50; ++s) differ += sample_token(l.data(), 300, other, s) != forward[s];
  EXPECT_GT(differ, 10);
  std::map<int32_t, int> distinct;
  for (auto t : forward) ++distinct[t];
  EXPECT_GT(distinct.size(), 10u);  // it really samples
}

TEST(Sampling, UniformIsCounterBased) {
  double mean = 0;
  for (uint64_t s = 0; s < 20000; ++s) {
    double u = sampling_uniform(7, s);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    mean += u / 20000;
  }
  EXPECT_NEAR(mean, 0.5, 0.01);
  EXPECT_EQ(sampling_uniform(7, 123), sampling_uniform(7, 123));
  EXPECT_NE(sampling_uniform(7, 123), sampling_uniform(8, 123));
  EXPECT_NE(sampling_uniform(7, 123), sampling_uniform(7, 124));
}

TEST(Sampling, FastPathMatchesReferenceExactly) {
  auto l = test::random_vec(1000, 4, -3.f, 3.f);
  l[10] = l[11] = 3.5f;  // ties inside the ranking
  for (float t : {0.f, 0.7f, 1.f, 1.5f})
    for (int k : {0, 1, 5, 50})
      for (float top_p : {1.f, 0.9f, 0.5f, 0.05f}) {
        SamplingParams p{t, k, top_p, 1234};
        for (uint64_t s = 0; s < 40; ++s)
          ASSERT_EQ(sample_token(l.data(), 1000, p, s), ref::sample_token(l.data(), 1000, p, s))
              << "T=" << t << " k=" << k << " p=" << top_p << " step=" << s;
      }
}

TEST(Sampling, TopPKeepsTheShortestPrefixAndRenormalizes) {
  // probs by id: .05 .40 .10 .30 .15; top_p .8 keeps ids 1, 3, 4 (cum .4, .7, .85).
  std::vector<float> l;
  for (double q : {0.05, 0.40, 0.10, 0.30, 0.15}) l.push_back(float(std::log(q)));
  const int steps = 20000;
  auto f = frequencies(l, SamplingParams{1.f, 0, 0.8f, 5}, steps);
  EXPECT_EQ(f[0], 0.0);
  EXPECT_EQ(f[2], 0.0);
  EXPECT_NEAR(f[1], 0.40 / 0.85, 0.015);
  EXPECT_NEAR(f[3], 0.30 / 0.85, 0.015);
  EXPECT_NEAR(f[4], 0.15 / 0.85, 0.015);
  // top-k 2 then top-p 0.9 of the survivors: .4/.7 = .571 < .9, so both stay.
  auto g = frequencies(l, SamplingParams{1.f, 2, 0.9f, 6}, steps);
  EXPECT_NEAR(g[1], 0.4 / 0.7, 0.015);
  EXPECT_NEAR(g[3], 0.3 / 0.7, 0.015);
  EXPECT_EQ(g[0] + g[2] + g[4], 0.0);
}

TEST(Sampling, TemperatureReshapesTheDistribution) {
  std::vector<float> l = {1.f, 2.f, 0.f, 1.5f};
  for (float t : {0.5f, 1.f, 2.f}) {
    double z = 0;
    for (float v : l) z += std::exp(v / t);
    auto f = frequencies(l, SamplingParams{t, 0, 1.f, 9}, 20000);
    for (size_t i = 0; i < l.size(); ++i) EXPECT_NEAR(f[i], std::exp(l[i] / t) / z, 0.015) << t;
  }
  // Very low temperature collapses onto the argmax.
  auto cold = frequencies(l, SamplingParams{0.02f, 0, 1.f, 9}, 2000);
  EXPECT_NEAR(cold[1], 1.0, 1e-9);
}

TEST(Sampling, RejectsBadParams) {
  std::vector<float> l = {1.f, 2.f};
  EXPECT_THROW(sample_token(l.data(), 2, SamplingParams{1.f, 0, 0.f, 0}, 0), Error);
  EXPECT_THROW(sample_token(l.data(), 0, SamplingParams{}, 0), Error);
}

}  // namespace
}  // namespace gossamer::kernels
