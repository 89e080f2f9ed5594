// Every CPU path of the dense linear (AVX2 and, where the CPU has it, AVX-512) against
// the double-precision oracle over a grid of token counts, sizes with and without tails,
// row strides and weight types; and the ISA choice itself (kernels/cpu/isa.h).
#include <gtest/gtest.h>

#include <cstdint>

#include "kernels/cpu/isa.h"
#include "kernels/cpu/linear.h"
#include "kernels/ref/linear.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using cpu::Isa;

constexpr Isa kAllIsas[] = {Isa::kAvx2, Isa::kAvx512};

// f32 accumulation over up to 2880 terms in a different order than the double oracle.
constexpr double kIsaTol = 4e-6;

struct GridCase {
  int64_t in;
  DType dtype;
};

void PrintTo(const GridCase& c, std::ostream* os) { *os << "in=" << c.in << " " << dtype_name(c.dtype); }

class LinearIsaGrid : public ::testing::TestWithParam<GridCase> {};

TEST_P(LinearIsaGrid, EveryPathMatchesReference) {
  const auto [in, dtype] = GetParam();
  const int64_t kTokens[] = {1, 2, 3, 7, 8, 9, 16, 17, 64};
  const int64_t kOuts[] = {1, 7, 201};
  int checked = 0;
  for (int64_t out : kOuts) {
    for (int64_t extra_stride : {int64_t(0), int64_t(13)}) {
      const int64_t stride = in + extra_stride;
      // Rows start `offset` elements into the buffer, like a tensor-parallel column slice.
      const int64_t offset = extra_stride ? 5 : 0;
      const size_t elems = size_t(offset + out * stride);
      auto wb = test::random_bf16(elems, uint32_t(in * 31 + out));
      auto wf = test::random_vec(elems, uint32_t(in * 37 + out));
      const void* data = dtype == DType::kBF16 ? static_cast<const void*>(wb.data() + offset)
                                               : static_cast<const void*>(wf.data() + offset);
      const DenseWeight w{data, dtype, out, in, extra_stride ? stride : 0};
      for (int64_t n : kTokens) {
        const bool with_bias = (n + out) % 2 == 1;
        auto x = test::random_vec(size_t(n * in), uint32_t(n * 7 + in));
        auto b = test::random_vec(size_t(out), uint32_t(out * 3));
        const float* bias = with_bias ? b.data() : nullptr;
        std::vector<float> yr(size_t(n * out));
        ref::linear(yr.data(), x.data(), n, w, bias);
        for (Isa isa : kAllIsas) {
          SCOPED_TRACE(testing::Message() << cpu::isa_name(isa) << " n=" << n << " out=" << out
                                          << " stride=" << stride << (with_bias ? " +bias" : ""));
          std::vector<float> y(yr.size(), -7.f);
          if (!cpu::isa_supported(isa, cpu::cpu_features())) {
            EXPECT_THROW(cpu::linear_with_isa(isa, test::exec3().threads(), y.data(), x.data(), n, w, bias), Error);
            continue;
          }
          cpu::linear_with_isa(isa, test::exec3().threads(), y.data(), x.data(), n, w, bias);
          EXPECT_LT(test::rel_err(y, yr), kIsaTol);
          ++checked;
        }
      }
    }
  }
  EXPECT_GT(checked, 0);
}

INSTANTIATE_TEST_SUITE_P(
    Sizes, LinearIsaGrid,
    ::testing::Values(GridCase{32, DType::kBF16}, GridCase{2880, DType::kBF16}, GridCase{40, DType::kBF16},
                      GridCase{72, DType::kBF16}, GridCase{1, DType::kBF16}, GridCase{15, DType::kBF16},
                      GridCase{17, DType::kBF16}, GridCase{33, DType::kBF16}, GridCase{2880, DType::kF32},
                      GridCase{40, DType::kF32}, GridCase{7, DType::kF32}),
    [](const ::testing::TestParamInfo<GridCase>& info) {
      return std::string(dtype_name(info.param.dtype)) + "_in" + std::to_string(info.param.in);
    });

// Several L2 tiles per thread and several token groups: each row must be right for
// every token, not just for the first group that streamed the tile in.
TEST(LinearIsa, ManyTilesAndTokenGroups) {
  const int64_t out = 1103, in = 2880, n = 17;
  auto wb = test::random_bf16(size_t(out * in), 11);
  auto x = test::random_vec(size_t(n * in), 12);
  auto b = test::random_vec(size_t(out), 13);
  const DenseWeight w{wb.data(), DType::kBF16, out, in, 0};
  std::vector<float> yr(size_t(n * out));
  ref::linear(yr.data(), x.data(), n, w, b.data());
  for (Isa isa : kAllIsas) {
    if (!cpu::isa_supported(isa, cpu::cpu_features())) continue;  // the grid checks the refusal
    SCOPED_TRACE(cpu::isa_name(isa));
    std::vector<float> y(yr.size(), -7.f);
    cpu::linear_with_isa(isa, test::exec3().threads(), y.data(), x.data(), n, w, b.data());
    EXPECT_LT(test::rel_err(y, yr), kIsaTol);
  }
}

// The widening is exact: weights and inputs that are small integers give exact sums,
// so every output must equal the oracle bit for bit. Small integers are exact in bf16 too,
// so Precision::kFast (every n through dpbf16ps where the CPU has it) must match as well.
TEST(LinearIsa, ExactOnIntegers) {
  const int64_t out = 37, in = 77, n = 5;
  std::vector<uint16_t> wb(size_t(out * in));
  std::vector<float> x(size_t(n * in));
  for (size_t i = 0; i < wb.size(); ++i) wb[i] = f32_to_bf16(float(int(i % 9) - 4)).bits;
  for (size_t i = 0; i < x.size(); ++i) x[i] = float(int(i % 5) - 2);
  const DenseWeight w{wb.data(), DType::kBF16, out, in, 0};
  std::vector<float> yr(size_t(n * out));
  ref::linear(yr.data(), x.data(), n, w, nullptr);
  const int64_t saved_dp_tokens = cpu::fast_dp_max_tokens();
  cpu::set_fast_dp_max_tokens(INT64_MAX);
  for (Isa isa : kAllIsas) {
    if (!cpu::isa_supported(isa, cpu::cpu_features())) continue;
    for (Precision precision : {Precision::kExact, Precision::kFast}) {
      std::vector<float> y(yr.size(), -7.f);
      cpu::linear_with_isa(isa, test::exec3().threads(), y.data(), x.data(), n, w, nullptr, precision);
      EXPECT_EQ(y, yr) << cpu::isa_name(isa) << (precision == Precision::kFast ? " fast" : " exact");
    }
  }
  cpu::set_fast_dp_max_tokens(saved_dp_tokens);
}

cpu::CpuFeatures avx2_only() {
  cpu::CpuFeatures f;
  f.avx2 = f.fma = f.f16c = true;
  return f;
}

cpu::CpuFeatures with_avx512() {
  cpu::CpuFeatures f = avx2_only();
  f.avx512f = f.avx512bw = f.avx512vl = true;
  return f;
}

TEST(CpuIsa, BestPathUnlessForced) {
  EXPECT_EQ(cpu::choose_isa(nullptr, avx2_only()), Isa::kAvx2);
  EXPECT_EQ(cpu::choose_isa("", avx2_only()), Isa::kAvx2);
  EXPECT_EQ(cpu::choose_isa(nullptr, with_avx512()), Isa::kAvx512);
  EXPECT_EQ(cpu::choose_isa("avx2", with_avx512()), Isa::kAvx2);
  EXPECT_EQ(cpu::choose_isa("avx512", with_avx512()), Isa::kAvx512);
}

TEST(CpuIsa, RefusesAForcedPathTheCpuLacks) {
  try {
    cpu::choose_isa("avx512", avx2_only());
    FAIL() << "expected kUnsupported";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("GOSSAMER_CPU_ISA=avx512"), std::string::npos) << e.what();
  }
  // AVX-512 F without BW/VL is not enough for the kernels' 16-bit masked loads.
  cpu::CpuFeatures partial = avx2_only();
  partial.avx512f = true;
  EXPECT_EQ(cpu::choose_isa(nullptr, partial), Isa::kAvx2);
  EXPECT_THROW(cpu::choose_isa("avx512", partial), Error);
}

TEST(CpuIsa, RejectsUnknownNamesAndCpusBelowTheFloor) {
  try {
    cpu::choose_isa("sse4", with_avx512());
    FAIL() << "expected kInvalidArgument";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
  }
  cpu::CpuFeatures none;
  EXPECT_THROW(cpu::choose_isa(nullptr, none), Error);
}

TEST(CpuIsa, ThisMachineRunsItsActivePath) {
  const Isa active = cpu::active_isa();
  EXPECT_TRUE(cpu::isa_supported(active, cpu::cpu_features()));
  EXPECT_EQ(cpu::isa_description().rfind(cpu::isa_name(active), 0), 0u) << cpu::isa_description();
  // The build's floor: a binary that got this far runs AVX2 code.
  EXPECT_TRUE(cpu::isa_supported(Isa::kAvx2, cpu::cpu_features()));
}

}  // namespace
}  // namespace gossamer::kernels
