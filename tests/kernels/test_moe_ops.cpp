// The batched MoE ops (permute, grouped MXFP4 GEMM plain and with fused SwiGLU,
// unpermute, combine): the CPU kernels against the kernels/ref/ scalar oracles over a grid
// of routings (one token, odd counts, empty experts, every token on one expert, 2k tokens)
// and widths (H a multiple of 32 but not of 64), with and without biases.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>

#include "kernels/cpu/grouped_mxfp4.h"
#include "kernels/cpu/mxfp4_gemv.h"
#include "kernels/grouped_mxfp4.h"
#include "kernels/moe_combine.h"
#include "kernels/moe_permute.h"
#include "kernels/ref/grouped_mxfp4.h"
#include "kernels/ref/moe_combine.h"
#include "kernels/ref/moe_permute.h"
#include "moe_test_data.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;
using test::rel_err;

// f32 accumulation (8 lanes, then a horizontal sum) against double; decoded values are exact.
constexpr double kGemmTol = 1e-5;
constexpr double kCombineTol = 1e-6;

struct Routing {
  const char* name;
  int64_t n;
  int k;
  int n_experts;   // global experts
  ExpertRange local;
  test::RoutingKind kind;
};
void PrintTo(const Routing& r, std::ostream* os) { *os << r.name; }

const Routing kRoutings[] = {
    {"one_token", 1, 4, 8, {0, 8}, test::RoutingKind::kRandom},
    {"odd_tokens", 7, 2, 6, {0, 6}, test::RoutingKind::kRandom},
    {"odd_tokens_local_slice", 13, 3, 8, {2, 4}, test::RoutingKind::kRandom},
    {"empty_experts", 9, 2, 8, {0, 8}, test::RoutingKind::kFewExperts},
    {"all_on_one_expert", 11, 1, 4, {0, 4}, test::RoutingKind::kAllOnFirst},
    {"no_local_pairs", 5, 2, 8, {6, 2}, test::RoutingKind::kFewExperts},
    {"tokens_2k", 2048, 4, 16, {0, 16}, test::RoutingKind::kRandom},
};

class MoePermuteTest : public ::testing::TestWithParam<Routing> {};

TEST_P(MoePermuteTest, MatchesReference) {
  const auto r = GetParam();
  const int64_t H = 96, pairs = r.n * r.k;
  const auto experts = test::random_routing(r.n, r.k, r.n_experts, r.kind, 5);
  const auto x = test::random_vec(size_t(r.n * H), 6);
  test::PermuteBuffers got(r.n, r.k, r.local.count, H), want(r.n, r.k, r.local.count, H);
  const int64_t rows = moe_permute(exec3(), experts.data(), r.n, r.k, r.local, got.out(), x.data(), H);
  const int64_t rows_ref = ref::moe_permute(experts.data(), r.n, r.k, r.local, want.out(), x.data(), H);
  ASSERT_EQ(rows, rows_ref);
  EXPECT_EQ(got.offsets, want.offsets);
  got.row_token.resize(size_t(rows));
  want.row_token.resize(size_t(rows));
  EXPECT_EQ(got.row_token, want.row_token);
  got.row_slot.resize(size_t(rows));
  want.row_slot.resize(size_t(rows));
  EXPECT_EQ(got.row_slot, want.row_slot);
  EXPECT_EQ(got.pair_row, want.pair_row);
  got.gathered.resize(size_t(rows * H));
  want.gathered.resize(size_t(rows * H));
  EXPECT_EQ(got.gathered, want.gathered);  // a copy: bit-exact
  // Every local pair appears once, and rows of one expert keep token order.
  int64_t local_pairs = 0;
  for (int64_t p = 0; p < pairs; ++p)
    local_pairs += experts[size_t(p)] >= r.local.first && experts[size_t(p)] < r.local.first + r.local.count;
  EXPECT_EQ(rows, local_pairs);
  for (int64_t e = 0; e < r.local.count; ++e)
    for (int64_t i = got.offsets[size_t(e)] + 1; i < got.offsets[size_t(e) + 1]; ++i)
      EXPECT_LT(got.row_token[size_t(i - 1)], got.row_token[size_t(i)]);
}

INSTANTIATE_TEST_SUITE_P(Routings, MoePermuteTest, ::testing::ValuesIn(kRoutings),
                         [](const auto& info) { return std::string(info.param.name); });

struct GemmCase {
  Routing routing;
  int64_t in, out;
  bool bias;
};
void PrintTo(const GemmCase& c, std::ostream* os) {
  *os << c.routing.name << " in=" << c.in << " out=" << c.out << (c.bias ? " bias" : "");
}

std::vector<GemmCase> gemm_cases() {
  std::vector<GemmCase> cases;
  for (const auto& r : kRoutings)
    for (bool bias : {true, false}) {
      const bool big = r.n > 100;  // keep the double-precision oracle fast
      cases.push_back({r, big ? 96 : 160, big ? 40 : 70, bias});
    }
  // Real widths: several tiles per expert and a full 2880-long contraction.
  cases.push_back({kRoutings[2], 2880, 100, true});
  cases.push_back({{"wide_rows", 40, 4, 4, {0, 4}, test::RoutingKind::kRandom}, 2880, 66, true});
  return cases;
}

class GroupedMxfp4Test : public ::testing::TestWithParam<GemmCase> {};

TEST_P(GroupedMxfp4Test, PlainAndSwigluMatchReference) {
  const auto c = GetParam();
  const auto& r = c.routing;
  const auto experts = test::random_routing(r.n, r.k, r.n_experts, r.kind, 7);
  test::PermuteBuffers perm(r.n, r.k, r.local.count, 0);
  const int64_t rows = moe_permute(exec3(), experts.data(), r.n, r.k, r.local, perm.out());
  test::RandomExperts w(r.local.count, c.out, c.in, 8);
  const auto x = test::random_vec(size_t(r.n * c.in), 9);
  const auto bias = test::random_vec(size_t(r.local.count * c.out), 10);
  const float* b = c.bias ? bias.data() : nullptr;
  const ExpertGroups groups{perm.offsets.data(), r.local.count, perm.row_token.data()};

  std::vector<float> y(size_t(rows * c.out)), yr(y.size());
  grouped_mxfp4_linear(exec3(), y.data(), x.data(), groups, w.views.data(), b);
  ref::grouped_mxfp4_linear(yr.data(), x.data(), groups, w.views.data(), b);
  EXPECT_LT(rel_err(y, yr), kGemmTol);

  std::vector<float> a(size_t(rows * c.out / 2)), ar(a.size());
  grouped_mxfp4_swiglu(exec3(), a.data(), x.data(), groups, w.views.data(), b, 1.702f, 7.f);
  ref::grouped_mxfp4_swiglu(ar.data(), x.data(), groups, w.views.data(), b, 1.702f, 7.f);
  EXPECT_LT(rel_err(a, ar), kGemmTol);

  // The AVX2 micro-kernel also where the CPU would pick the AVX-512 one.
  std::vector<float> y_avx2(y.size()), a_avx2(a.size());
  const cpu::SwigluEpilogue swiglu{1.702f, 7.f};
  cpu::grouped_mxfp4(*exec3().pool, y_avx2.data(), x.data(), groups, w.views.data(), b, nullptr, false);
  cpu::grouped_mxfp4(*exec3().pool, a_avx2.data(), x.data(), groups, w.views.data(), b, &swiglu, false);
  EXPECT_LT(rel_err(y_avx2, yr), kGemmTol);
  EXPECT_LT(rel_err(a_avx2, ar), kGemmTol);

  // Without row_index the input is read in permuted order: gather by hand and compare.
  std::vector<float> gathered(size_t(rows * c.in)), y2(y.size());
  for (int64_t i = 0; i < rows; ++i)
    std::copy_n(x.begin() + perm.row_token[size_t(i)] * c.in, c.in, gathered.begin() + i * c.in);
  grouped_mxfp4_linear(exec3(), y2.data(), gathered.data(), ExpertGroups{perm.offsets.data(), r.local.count, nullptr},
                       w.views.data(), b);
  EXPECT_EQ(y2, y);  // same rows, same order of accumulation
}

INSTANTIATE_TEST_SUITE_P(Shapes, GroupedMxfp4Test, ::testing::ValuesIn(gemm_cases()));

// Outputs saturate the clamp (limit 7) on both sides: large weights and inputs.
TEST(GroupedMxfp4, SwigluClampsGateAboveAndLinearBothSides) {
  const int64_t n = 6, in = 64, out = 8;
  test::RandomExperts w(1, out, in, 31, /*scale_lo=*/128);
  const auto x = test::random_vec(size_t(n * in), 32, -3.f, 3.f);
  const int64_t offsets[2] = {0, n};
  std::vector<float> a(size_t(n * out / 2)), ar(a.size()), u(size_t(n * out));
  const ExpertGroups g{offsets, 1, nullptr};
  grouped_mxfp4_swiglu(exec3(), a.data(), x.data(), g, w.views.data(), nullptr, 1.702f, 7.f);
  ref::grouped_mxfp4_swiglu(ar.data(), x.data(), g, w.views.data(), nullptr, 1.702f, 7.f);
  ref::grouped_mxfp4_linear(u.data(), x.data(), g, w.views.data(), nullptr);
  int above = 0, below = 0;
  for (float v : u) above += v > 7.f, below += v < -7.f;
  EXPECT_GT(above, 0);
  EXPECT_GT(below, 0);
  EXPECT_LT(rel_err(a, ar), kGemmTol);
}

// Every row count an expert has in a decode step, on both sides of the switch from the
// f32 GEMV (up to cpu::kMxfp4GemvMaxTokens rows on AVX-512, kMxfp4GemvMaxTokensAvx2 on
// AVX2) to the decoded tile, on both paths, against the oracle one expert at a time (so a
// failure names its row count). 70 outputs: the GEMV's pairs of rows end on an odd one.
TEST(GroupedMxfp4, EveryGemvRowCountMatchesReference) {
  // Expert e has e rows: 0 .. kMxfp4GemvMaxTokens + 2.
  constexpr int64_t kExperts = cpu::kMxfp4GemvMaxTokens + 3, in = 2880, out = 70;
  std::vector<int64_t> offsets(kExperts + 1, 0);
  for (int64_t e = 0; e < kExperts; ++e) offsets[size_t(e + 1)] = offsets[size_t(e)] + e;
  const int64_t rows = offsets[kExperts];
  test::RandomExperts w(kExperts, out, in, 41);
  const auto x = test::random_vec(size_t(rows * in), 42);
  const auto bias = test::random_vec(size_t(kExperts * out), 43);
  const ExpertGroups g{offsets.data(), kExperts, nullptr};
  std::vector<float> yr(size_t(rows * out)), ar(size_t(rows * out / 2));
  ref::grouped_mxfp4_linear(yr.data(), x.data(), g, w.views.data(), bias.data());
  ref::grouped_mxfp4_swiglu(ar.data(), x.data(), g, w.views.data(), bias.data(), 1.702f, 7.f);
  const cpu::SwigluEpilogue swiglu{1.702f, 7.f};
  for (bool avx512 : {true, false}) {
    std::vector<float> y(yr.size(), -1.f), a(ar.size(), -1.f);
    cpu::grouped_mxfp4(*exec3().pool, y.data(), x.data(), g, w.views.data(), bias.data(), nullptr, avx512);
    cpu::grouped_mxfp4(*exec3().pool, a.data(), x.data(), g, w.views.data(), bias.data(), &swiglu, avx512);
    for (int64_t e = 1; e < kExperts; ++e) {
      const auto r0 = size_t(offsets[size_t(e)]), m = size_t(e);
      EXPECT_LT(rel_err(y.data() + r0 * out, yr.data() + r0 * out, m * out), kGemmTol)
          << "linear, " << e << " rows, avx512 " << avx512;
      EXPECT_LT(rel_err(a.data() + r0 * out / 2, ar.data() + r0 * out / 2, m * out / 2), kGemmTol)
          << "swiglu, " << e << " rows, avx512 " << avx512;
    }
  }
}

TEST(GroupedMxfp4, RejectsMismatchedExpertsAndOddSwigluWidth) {
  test::RandomExperts w(2, 6, 64, 1);
  w.views[1].out = 5;
  const int64_t offsets[3] = {0, 1, 2};
  std::vector<float> x(128), y(64);
  EXPECT_THROW(grouped_mxfp4_linear(exec3(), y.data(), x.data(), ExpertGroups{offsets, 2}, w.views.data(), nullptr),
               Error);
  w.views[0].out = 5;
  EXPECT_THROW(grouped_mxfp4_swiglu(exec3(), y.data(), x.data(), ExpertGroups{offsets, 2}, w.views.data(), nullptr,
                                    1.702f, 7.f),
               Error);
}

class MoeCombineTest : public ::testing::TestWithParam<Routing> {};

TEST_P(MoeCombineTest, CombineAndUnpermuteMatchReference) {
  const auto r = GetParam();
  const int64_t H = 160, pairs = r.n * r.k;
  const auto experts = test::random_routing(r.n, r.k, r.n_experts, r.kind, 11);
  test::PermuteBuffers perm(r.n, r.k, r.local.count, 0);
  const int64_t rows = moe_permute(exec3(), experts.data(), r.n, r.k, r.local, perm.out());
  const auto y = test::random_vec(size_t(std::max<int64_t>(rows, 1) * H), 12);
  const auto weights = test::random_vec(size_t(pairs), 13, 0.f, 1.f);

  std::vector<float> out(size_t(r.n * H)), outr(out.size());
  moe_combine(exec3(), out.data(), y.data(), perm.pair_row.data(), weights.data(), r.n, r.k, H);
  ref::moe_combine(outr.data(), y.data(), perm.pair_row.data(), weights.data(), r.n, r.k, H);
  EXPECT_LT(rel_err(out, outr), kCombineTol);

  // The EP route: unpermute to [n, k, H] (zeros for remote pairs), then combine in pair
  // order — the same sums, bit for bit.
  std::vector<float> slots(size_t(pairs * H), -1.f), slotsr(slots.size());
  moe_unpermute(exec3(), slots.data(), y.data(), perm.pair_row.data(), pairs, H);
  ref::moe_unpermute(slotsr.data(), y.data(), perm.pair_row.data(), pairs, H);
  EXPECT_EQ(slots, slotsr);
  std::vector<float> out2(out.size());
  moe_combine(exec3(), out2.data(), slots.data(), nullptr, weights.data(), r.n, r.k, H);
  if (rows == pairs) {
    EXPECT_EQ(out2, out);
  }
  EXPECT_LT(rel_err(out2, outr), kCombineTol);
}

INSTANTIATE_TEST_SUITE_P(Routings, MoeCombineTest, ::testing::ValuesIn(kRoutings),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gossamer::kernels
