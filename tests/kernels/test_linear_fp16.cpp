// The fp16 kernel of the bf16 dense linear (kernels/cpu/avx512/dense_fp16.cpp; precision
// fast, n >= 32, CPUs with AVX512-FP16) against the exact scalar oracle.
// Error bound per output, with S = Σ_k |w_k x_k|: x rounds to 11 bits after its power-of-two
// scaling (2^-11 S), plus at most 2^-24 max|x| Σ|w| where a scaled x is subnormal; the
// weights convert exactly except those below 2^-22 of their row's largest, which become
// zero (at most 2^-22 max|w| Σ|x|); each fp16 lane adds 32 products, every addition rounding by at
// most 2^-11 of a partial sum bounded by S (32 x 2^-11 S); the f32 sums and the oracle's add
// 2 (in + 16) 2^-24 S. A wrong layout, tile, scale or flush gives errors of order S.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/dtype.h"
#include "kernels/cpu/linear.h"
#include "kernels/ref/linear.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {

struct Fp16Case {
  int64_t out, in, n;
  float x_scale;  // inputs in [-x_scale, x_scale]
  bool wide_rows = false;  // rows that span far more than fp16's range (tiny, zero, subnormal)
};

// Every third row gets weights scaled over 60 binades: most of each such row is far below
// 2^-22 of its largest (flushed), some bf16 subnormals and zeros among them.
void widen_rows(std::vector<float>& wf, int64_t out, int64_t in) {
  for (int64_t o = 0; o < out; o += 3)
    for (int64_t k = 0; k < in; ++k) {
      float& w = wf[size_t(o * in + k)];
      w = k % 7 == 0 ? 0.f : k % 11 == 0 ? w * 1e-40f : std::ldexp(w, -int(k % 60));
    }
}

TEST(LinearFp16, WithinFp16BoundsOfTheExactOracle) {
  if (!cpu::linear_fast_uses_fp16(cpu::Isa::kAvx512, 64))
    GTEST_SKIP() << "no AVX512-FP16: fast prefill runs the exact kernel";
  const Fp16Case cases[] = {{37, 77, 37, 1.f}, {64, 2880, 32, 3.f}, {50, 2880, 33, 1e3f}, {130, 96, 70, 1e-4f},
                            {5120, 2880, 40, 10.f},
                            {32, 2880, 32, 2.f}, {96, 2880, 40, 1.f, true}, {33, 300, 33, 5.f, true}};
  for (const auto& c : cases) {
    std::vector<uint16_t> wb(size_t(c.out * c.in));
    auto wf = test::random_vec(wb.size(), 7, -0.05f, 0.05f);
    if (c.wide_rows) widen_rows(wf, c.out, c.in);
    for (size_t i = 0; i < wb.size(); ++i) wb[i] = f32_to_bf16(wf[i]).bits;
    auto x = test::random_vec(size_t(c.n * c.in), 8, -c.x_scale, c.x_scale);
    x[3] = 0.f;  // a zero and a tiny value in one row: subnormal after scaling
    x[4] = c.x_scale * 1e-9f;
    const auto bias = test::random_vec(size_t(c.out), 9);
    const DenseWeight w{wb.data(), DType::kBF16, c.out, c.in, 0};
    std::vector<float> y(size_t(c.n * c.out)), yr(y.size());
    cpu::linear_with_isa(cpu::Isa::kAvx512, test::exec3().threads(), y.data(), x.data(), c.n, w, bias.data(),
                         Precision::kFast);
    ref::linear(yr.data(), x.data(), c.n, w, bias.data());
    double worst = 0.0;
    for (int64_t t = 0; t < c.n; ++t) {
      float xmax = 0.f;
      double xabs = 0.0;
      for (int64_t k = 0; k < c.in; ++k) {
        xmax = std::max(xmax, std::fabs(x[size_t(t * c.in + k)]));
        xabs += std::fabs(x[size_t(t * c.in + k)]);
      }
      for (int64_t o = 0; o < c.out; ++o) {
        double s = 0.0, wabs = 0.0, wmax = 0.0;
        for (int64_t k = 0; k < c.in; ++k) {
          const double wk = bf16_to_f32(bf16{wb[size_t(o * c.in + k)]});
          s += std::fabs(wk * x[size_t(t * c.in + k)]);
          wabs += std::fabs(wk);
          wmax = std::max(wmax, std::fabs(wk));
        }
        const double tol = (std::ldexp(1.0, -11) * 33.0 + 2.0 * double(c.in + 16) * std::ldexp(1.0, -24)) * s +
                           std::ldexp(1.0, -24) * xmax * wabs + std::ldexp(1.0, -22) * wmax * xabs +
                           1e-6 * std::fabs(bias[size_t(o)]);
        const double err = std::fabs(double(y[size_t(t * c.out + o)]) - double(yr[size_t(t * c.out + o)]));
        ASSERT_LE(err, tol) << "out " << c.out << " in " << c.in << " n " << c.n << " token " << t << " row " << o;
        worst = std::max(worst, err / (s + 1e-30));
      }
    }
    // The bound is loose; the typical error is far smaller (x's rounding dominates).
    EXPECT_LT(worst, std::ldexp(1.0, -8)) << "out " << c.out << " in " << c.in << " n " << c.n;
  }
}

// A row holding inf or NaN gives a non-finite output where the oracle does (those rows
// take the float conversion), and leaves the other rows' outputs finite.
TEST(LinearFp16, NonFiniteWeightsStayNonFinite) {
  if (!cpu::linear_fast_uses_fp16(cpu::Isa::kAvx512, 64))
    GTEST_SKIP() << "no AVX512-FP16: fast prefill runs the exact kernel";
  const int64_t out = 8, in = 128, n = 32;
  auto wf = test::random_vec(size_t(out * in), 3, -1.f, 1.f);
  wf[size_t(2 * in + 5)] = INFINITY;
  wf[size_t(5 * in + 70)] = NAN;
  std::vector<uint16_t> wb(wf.size());
  for (size_t i = 0; i < wb.size(); ++i) wb[i] = f32_to_bf16(wf[i]).bits;
  const auto x = test::random_vec(size_t(n * in), 4, -1.f, 1.f);
  const DenseWeight w{wb.data(), DType::kBF16, out, in, 0};
  std::vector<float> y(size_t(n * out)), yr(y.size());
  cpu::linear_with_isa(cpu::Isa::kAvx512, test::exec3().threads(), y.data(), x.data(), n, w, nullptr, Precision::kFast);
  ref::linear(yr.data(), x.data(), n, w, nullptr);
  for (size_t i = 0; i < y.size(); ++i) {
    EXPECT_EQ(std::isfinite(y[i]), std::isfinite(yr[i])) << "output " << i;
    if (std::isfinite(yr[i])) {
      EXPECT_NEAR(y[i], yr[i], 0.05) << "output " << i;
    }
  }
}

}  // namespace
}  // namespace gossamer::kernels
