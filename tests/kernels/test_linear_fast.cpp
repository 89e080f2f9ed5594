// The dense linear in Precision::kFast on both CPU paths. Where the avx512 path has
// avx512_bf16 it rounds x to bf16 and uses dpbf16ps (up to cpu::fast_dp_max_tokens()
// tokens; the tests raise that so the kernel's tile path for many tokens is covered too):
// it must match the oracle on rounded x (ref::linear_bf16_x) as closely as the exact
// kernel matches ref::linear, and stay within the bf16 rounding bound of the exact
// oracle. More tokens on a CPU with AVX512-FP16 take the fp16 kernel (its bounds are
// tests/kernels/test_linear_fp16.cpp; here only a coarse check against the exact oracle).
// Everywhere else fast must be the exact kernel, bit for bit.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/linear.h"
#include "kernels/ref/linear.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using cpu::Isa;

// Against the oracle on the same rounded x only the f32 accumulation order differs: the
// bound of the exact kernel (test_linear_isa.cpp). Products of two bf16 are exact in f32.
constexpr double kFastLinearAccumTol = 4e-6;
// bf16 has 8 significant bits, so rounding x to nearest moves each x_i by at most
// 2^-8 |x_i| (the unit roundoff), and each output by at most 2^-8 sum_i |x_i w_i|; the
// f32 accumulation adds at most in * 2^-24 of the same sum, kept as a second term.
constexpr double kFastLinearBf16Unit = 1.0 / 256;

// Every n through dpbf16ps while a test runs, then the default back.
struct AllTokensThroughDp {
  int64_t saved = cpu::fast_dp_max_tokens();
  AllTokensThroughDp() { cpu::set_fast_dp_max_tokens(INT64_MAX); }
  ~AllTokensThroughDp() { cpu::set_fast_dp_max_tokens(saved); }
};

struct FastLinearCase {
  int64_t n, out, in, extra_stride;
};

// Checks linear_with_isa(isa, kFast) for one shape against both oracles.
void check_fast_linear(Isa isa, const FastLinearCase& c, bool with_bias) {
  const int64_t stride = c.in + c.extra_stride, offset = c.extra_stride ? 3 : 0;
  auto wb = test::random_bf16(size_t(offset + c.out * stride), uint32_t(c.in * 131 + c.out));
  const DenseWeight w{wb.data() + offset, DType::kBF16, c.out, c.in, c.extra_stride ? stride : 0};
  auto x = test::random_vec(size_t(c.n * c.in), uint32_t(c.n * 17 + c.in), -2.f, 2.f);
  auto b = test::random_vec(size_t(c.out), uint32_t(c.out + 5));
  const float* bias = with_bias ? b.data() : nullptr;
  std::vector<float> y(size_t(c.n * c.out), -7.f), y_exact(y.size(), -7.f);
  cpu::linear_with_isa(isa, test::exec3().threads(), y.data(), x.data(), c.n, w, bias, Precision::kFast);
  if (cpu::linear_fast_uses_fp16(isa, c.n)) {
    std::vector<float> yx(y.size());
    ref::linear(yx.data(), x.data(), c.n, w, bias);
    EXPECT_LT(test::rel_err(y, yx), 3e-3) << "the fp16 kernel (n = " << c.n << ")";
    return;
  }
  if (!cpu::linear_fast_rounds_x(isa, c.n)) {
    cpu::linear_with_isa(isa, test::exec3().threads(), y_exact.data(), x.data(), c.n, w, bias, Precision::kExact);
    EXPECT_EQ(y, y_exact) << "fast without avx512_bf16 must run the exact kernel";
    return;
  }
  std::vector<float> yr(y.size()), yx(y.size());
  ref::linear_bf16_x(yr.data(), x.data(), c.n, w, bias);
  EXPECT_LT(test::rel_err(y, yr), kFastLinearAccumTol);
  ref::linear(yx.data(), x.data(), c.n, w, bias);
  int64_t bad = 0;
  for (int64_t t = 0; t < c.n; ++t)
    for (int64_t r = 0; r < c.out; ++r) {
      double abs_sum = 0;
      for (int64_t i = 0; i < c.in; ++i) abs_sum += std::fabs(double(x[size_t(t * c.in + i)]) * ref::dense_at(w, r, i));
      const double bound = abs_sum * (kFastLinearBf16Unit + double(c.in) * 0x1p-24) + 1e-6;  // 1e-6: y's own rounding
      bad += std::fabs(double(y[size_t(t * c.out + r)]) - yx[size_t(t * c.out + r)]) > bound;
    }
  EXPECT_EQ(bad, 0) << "outputs beyond the bf16 rounding bound of the exact oracle";
}

TEST(LinearFast, EveryPathMatchesOracle) {
  const AllTokensThroughDp all_dp;
  const int64_t kIns[] = {1, 15, 17, 32, 33, 40, 2880};
  const int64_t kTokens[] = {1, 2, 3, 7, 16, 17};
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!cpu::isa_supported(isa, cpu::cpu_features())) continue;
    for (int64_t in : kIns)
      for (int64_t out : {int64_t(1), int64_t(7), int64_t(201)})
        for (int64_t extra : {int64_t(0), int64_t(13)})
          for (int64_t n : kTokens) {
            SCOPED_TRACE(testing::Message() << cpu::isa_name(isa) << " n=" << n << " out=" << out << " in=" << in
                                            << " extra_stride=" << extra);
            check_fast_linear(isa, FastLinearCase{n, out, in, extra}, (n + out) % 2 == 1);
          }
  }
}

// o_proj's shape, several L2 tiles and k-chunks per thread, and a 2k-token prefill.
TEST(LinearFast, LargeShapes) {
  const AllTokensThroughDp all_dp;
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!cpu::isa_supported(isa, cpu::cpu_features())) continue;
    SCOPED_TRACE(cpu::isa_name(isa));
    check_fast_linear(isa, FastLinearCase{17, 1103, 2880, 0}, true);
    check_fast_linear(isa, FastLinearCase{64, 129, 4096, 0}, false);
    check_fast_linear(isa, FastLinearCase{2048, 19, 2880, 0}, true);
  }
}

// The default split: decode-sized n rounds x to bf16; more tokens take the fp16 kernel
// where the CPU has AVX512-FP16, else the exact kernel.
TEST(LinearFast, DefaultSplitByTokens) {
  for (Isa isa : {Isa::kAvx2, Isa::kAvx512}) {
    if (!cpu::isa_supported(isa, cpu::cpu_features())) continue;
    for (int64_t n : {int64_t(1), int64_t(3), int64_t(4), int64_t(16)}) {
      SCOPED_TRACE(testing::Message() << cpu::isa_name(isa) << " n=" << n);
      EXPECT_EQ(cpu::linear_fast_rounds_x(isa, n),
                isa == Isa::kAvx512 && cpu::cpu_features().avx512_bf16 && n <= cpu::fast_dp_max_tokens());
      check_fast_linear(isa, FastLinearCase{n, 45, 2880, 0}, true);
    }
  }
}

}  // namespace
}  // namespace gossamer::kernels
