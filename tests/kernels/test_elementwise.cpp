#include <gtest/gtest.h>

#include "kernels/elementwise.h"
#include "kernels/ref/elementwise.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;

TEST(Elementwise, AddAndAxpyMatchReference) {
  for (int64_t n : {1, 17, 300001}) {  // the last one is split over threads
    auto x = test::random_vec(size_t(n), 1), y0 = test::random_vec(size_t(n), 2);
    auto y = y0, yr = y0;
    add_inplace(exec3(), y.data(), x.data(), n);
    ref::add_inplace(yr.data(), x.data(), n);
    EXPECT_EQ(y, yr);
    y = y0;
    yr = y0;
    axpy(exec3(), y.data(), -0.37f, x.data(), n);
    ref::axpy(yr.data(), -0.37f, x.data(), n);
    EXPECT_LT(test::rel_err(y, yr), 1e-7);  // FMA contraction may differ by an ulp
    EXPECT_NE(y, y0);
  }
}

}  // namespace
}  // namespace gossamer::kernels
