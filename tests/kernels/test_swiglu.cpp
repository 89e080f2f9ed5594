#include <gtest/gtest.h>

#include "kernels/ref/swiglu.h"
#include "kernels/swiglu.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;

TEST(Swiglu, MatchesReferenceBeyondClamp) {
  for (int64_t n : {1, 3, 17})
    for (int64_t inter : {5, 384, 2880}) {
      // +-20 puts many gates above 7 and ups outside [-7, 7].
      auto gu = test::random_vec(size_t(n * 2 * inter), uint32_t(n + inter), -20.f, 20.f);
      std::vector<float> y(size_t(n * inter)), yr(y.size());
      swiglu_clamped(exec3(), y.data(), gu.data(), n, inter, 1.702f, 7.f);
      ref::swiglu_clamped(yr.data(), gu.data(), n, inter, 1.702f, 7.f);
      EXPECT_LT(test::rel_err(y, yr), 1e-6) << n << "x" << inter;
    }
}

TEST(Swiglu, ClampsAndInterleaveByHand) {
  auto f = [](double g, double u) { return g / (1 + std::exp(-1.702 * g)) * (u + 1); };
  // Pairs (gate, up): gate above the limit, up below -limit, negative gate is NOT
  // clamped from below, up above +limit.
  std::vector<float> gu = {10.f, -10.f, -12.f, 0.5f, 1.f, 9.f};
  std::vector<float> y(3);
  swiglu_clamped(exec3(), y.data(), gu.data(), 1, 3, 1.702f, 7.f);
  EXPECT_NEAR(y[0], f(7, -7), 1e-5);
  EXPECT_NEAR(y[1], f(-12, 0.5), 1e-6);
  EXPECT_NEAR(y[2], f(1, 7), 1e-5);
}

}  // namespace
}  // namespace gossamer::kernels
