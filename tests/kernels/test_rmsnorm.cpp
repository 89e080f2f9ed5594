#include <gtest/gtest.h>

#include "kernels/ref/rmsnorm.h"
#include "kernels/rmsnorm.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;
using test::rel_err;

constexpr double kRmsnormTol = 1e-6;  // f32 sum of squares vs double

TEST(RmsNorm, MatchesReferenceOddSizes) {
  for (int64_t n : {1, 3, 17})
    for (int64_t dim : {7, 64, 2880, 1001}) {
      auto x = test::random_vec(size_t(n * dim), uint32_t(n * 31 + dim), -3.f, 3.f);
      auto g = test::random_vec(size_t(dim), 5, 0.5f, 1.5f);
      std::vector<float> y(x.size()), yr(x.size());
      rmsnorm(exec3(), y.data(), x.data(), g.data(), n, dim, 1e-5f);
      ref::rmsnorm(yr.data(), x.data(), g.data(), n, dim, 1e-5f);
      EXPECT_LT(rel_err(y, yr), kRmsnormTol) << "n=" << n << " dim=" << dim;
    }
}

TEST(RmsNorm, InPlaceAndKnownValue) {
  // x = [3, 4]: mean square 12.5 -> y = x / sqrt(12.5 + eps) * g
  std::vector<float> x = {3.f, 4.f}, g = {2.f, 0.5f};
  rmsnorm(exec3(), x.data(), x.data(), g.data(), 1, 2, 0.f);
  EXPECT_NEAR(x[0], 3.f / std::sqrt(12.5f) * 2.f, 1e-6);
  EXPECT_NEAR(x[1], 4.f / std::sqrt(12.5f) * 0.5f, 1e-6);
}

}  // namespace
}  // namespace gossamer::kernels
