// The int8 path of the grouped MXFP4 GEMM (precision fast, kernels/cpu/mxfp4_int8.h)
// against two oracles, over one row, odd row counts, empty groups, out not a multiple of
// 16, in = 2880 (not a multiple of 512), gathered rows and 2k tokens x top-4:
//  * an emulation of the int8 scheme in double (same quantisation, exact integer dots):
//    only f32 rounding may differ, bounded by 2 (nb + 8) 2^-24 sum_k |w_k x_k| (the GEMV
//    sums 4-product partial dots per lane over the blocks, then 16 lanes in a tree);
//  * the exact scalar oracle (kernels/ref/grouped_mxfp4.cpp): the difference is bounded
//    by the quantisation error, |x - d q| <= d / 2 per element (d = max|x_b| / 127), so
//    |dy| <= sum_b d_b / 2 * sum_{k in b} |w_k| plus the rounding slack of both sides
//    (the oracle's f32 sum over `in` terms: 2 (in + 2) 2^-24 sum_k |w_k x_k|).
// SwiGLU outputs carry the pre-activation bound through the epilogue: |d/dg g sigmoid(1.702 g)|
// <= 1.1, |lin + 1| <= 8 after the clamp and |gate sigmoid| <= 7, so
// |dout| <= 1.1 (8 + dl) dg + 7 dl, plus 1e-5 (1 + |out|) for the f32 epilogue and fast
// mode's vector exp (about 2e-7 relative).
// Experts in the stored layout on the AVX2 path (no VNNI, or GOSSAMER_CPU_ISA=avx2) run the
// exact kernel in fast mode: checked bit for bit against precision exact.
// The same bounds hold for experts repacked at load (kernels/cpu/mxfp4_pack.h: the packed
// GEMV up to 6 rows, the packed tile decode above), on the AVX-512 VNNI kernels and on the
// AVX2 ones (kernels/cpu/mxfp4_packed_avx2.cpp, every row count 6 rows at a time); the
// AVX2 packer and quantiser write the same bytes as the AVX-512 ones.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <vector>

#include "core/mxfp4.h"
#include "kernels/cpu/grouped_mxfp4.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/mxfp4_int8.h"
#include "kernels/cpu/mxfp4_pack.h"
#include "kernels/ref/grouped_mxfp4.h"
#include "kernels/ref/swiglu.h"
#include "moe_test_data.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {

struct Int8GemmCase {
  const char* name;
  std::vector<int64_t> rows_per_group;  // empty: routed (tokens x top_k over `experts`)
  int64_t tokens = 0, top_k = 0, experts = 0;
  int64_t out, in;
  bool gather;  // rows through ExpertGroups::row_index
  int scale_lo = 118;  // e8m0 scales scale_lo .. scale_lo + 14
};
void PrintTo(const Int8GemmCase& c, std::ostream* os) { *os << c.name; }

const Int8GemmCase kInt8GemmCases[] = {
    {"one_row", {1}, 0, 0, 0, 64, 96, false},
    {"odd_rows", {5, 0, 7, 13}, 0, 0, 0, 40, 96, false},
    {"empty_groups", {0, 0, 9, 0, 4}, 0, 0, 0, 34, 64, false},
    {"in_2880", {17, 4, 6}, 0, 0, 0, 64, 2880, false},
    {"gemv_rows_in_2880", {2, 3, 1, 0, 6, 4}, 0, 0, 0, 40, 2880, false},
    {"gemv_rows_odd_blocks", {3, 2, 1, 5}, 0, 0, 0, 34, 160, false},
    {"gathered_odd", {}, 23, 3, 5, 50, 160, true},
    {"tokens_2k_top4", {}, 2048, 4, 8, 48, 160, true},
    // e8m0 0 and 1 take the decode's table path instead of exponent bits. The products
    // (below 2^-110) vanish next to the bias: this runs the path, it cannot judge its values.
    {"tiny_scales", {17, 2}, 0, 0, 0, 32, 256, false, 0},
};

// Offsets and (when gathering) row_index of a case; rows of a routed case are sorted by
// expert, as the permutation hands them over.
struct Int8GemmRouting {
  std::vector<int64_t> offsets;
  std::vector<int32_t> row_index;
  int64_t sources = 0;
};
Int8GemmRouting int8gemm_routing(const Int8GemmCase& c) {
  Int8GemmRouting r;
  r.offsets.push_back(0);
  if (!c.rows_per_group.empty()) {
    for (int64_t m : c.rows_per_group) r.offsets.push_back(r.offsets.back() + m);
    r.sources = r.offsets.back();
    return r;
  }
  const auto experts = test::random_routing(c.tokens, int(c.top_k), int(c.experts), test::RoutingKind::kRandom, 17);
  for (int64_t e = 0; e < c.experts; ++e) {
    for (int64_t i = 0; i < c.tokens * c.top_k; ++i)
      if (experts[size_t(i)] == e) r.row_index.push_back(int32_t(i / c.top_k));
    r.offsets.push_back(int64_t(r.row_index.size()));
  }
  r.sources = c.tokens;
  return r;
}

// Per output: the int8 emulation (double), its f32 rounding slack and the quantisation bound.
struct Int8GemmOracle {
  std::vector<double> emul, round_tol, quant_tol;
};
Int8GemmOracle int8gemm_oracle(const std::vector<float>& x, const ExpertGroups& g, const Mxfp4Weight* w,
                               const float* bias) {
  const int64_t out = w[0].out, in = w[0].in, nb = in / 32, rows = g.rows();
  Int8GemmOracle o;
  o.emul.resize(size_t(rows * out));
  o.round_tol.resize(o.emul.size());
  o.quant_tol.resize(o.emul.size());
  std::vector<int> q(static_cast<size_t>(in));
  std::vector<float> d(static_cast<size_t>(nb));
  for (int64_t e = 0; e < g.groups; ++e)
    for (int64_t r = g.offsets[e]; r < g.offsets[e + 1]; ++r) {
      const float* xr = x.data() + (g.row_index ? int64_t{g.row_index[r]} : r) * in;
      for (int64_t b = 0; b < nb; ++b) {  // the kernel's quantisation, in the same f32 steps
        float amax = 0.f;
        for (int k = 0; k < 32; ++k) amax = std::max(amax, std::fabs(xr[b * 32 + k]));
        const float inv = amax > 0.f ? 127.f / amax : 0.f;
        for (int k = 0; k < 32; ++k) q[size_t(b * 32 + k)] = int(std::nearbyint(xr[b * 32 + k] * inv));
        d[size_t(b)] = amax / 127.f;
      }
      for (int64_t c = 0; c < out; ++c) {
        const uint8_t* blocks = w[e].blocks + c * w[e].stride() * kMxfp4BytesPerBlock;
        const uint8_t* scales = w[e].scales + c * w[e].stride();
        // mag_x bounds sum_k |w_k x_k| (|x_k| <= 127 d_b): what the f32 sums of the kernel
        // (partial dots of up to 32 products per term) and of the f32 oracle add up.
        double sum = bias ? bias[e * out + c] : 0.0, mag_x = std::fabs(sum), qerr = 0.0;
        for (int64_t b = 0; b < nb; ++b) {
          int64_t dot = 0;
          double wabs = 0.0;
          for (int k = 0; k < 32; ++k) {
            const int w2 = int(2.f * kFp4Values[fp4_code(blocks + b * kMxfp4BytesPerBlock, k)]);
            dot += int64_t{w2} * q[size_t(b * 32 + k)];
            wabs += std::abs(w2);
          }
          const double ws = 0.5 * double(e8m0_to_f32(scales[b]));
          const double term = ws * double(d[size_t(b)]) * double(dot);
          sum += term;
          mag_x += ws * double(d[size_t(b)]) * wabs * 127.0;
          qerr += ws * wabs * double(d[size_t(b)]) / 2.0;
        }
        const size_t at = size_t(r * out + c);
        o.emul[at] = sum;
        o.round_tol[at] = 2.0 * double(nb + 8) * std::ldexp(1.0, -24) * mag_x + 1e-30;
        o.quant_tol[at] = qerr + o.round_tol[at] + 2.0 * double(in + 2) * std::ldexp(1.0, -24) * mag_x;
      }
    }
  return o;
}

// One case's routing, expert weights, input rows and biases (seeds seed, +1, +2).
struct Int8GemmProblem {
  Int8GemmRouting routing;
  ExpertGroups g;
  test::RandomExperts w;
  std::vector<float> x, bias;
  Int8GemmProblem(const Int8GemmCase& c, uint32_t seed)
      : routing(int8gemm_routing(c)),
        g{routing.offsets.data(), int64_t(routing.offsets.size()) - 1, c.gather ? routing.row_index.data() : nullptr},
        w(g.groups, c.out, c.in, seed, c.scale_lo),
        x(test::random_vec(size_t(routing.sources * c.in), seed + 1, -2.f, 2.f)),
        bias(test::random_vec(size_t(g.groups * c.out), seed + 2)) {}
  Int8GemmProblem(const Int8GemmProblem&) = delete;  // g points into routing
};

// Linear outputs against the exact oracle (quantisation bound) and, where the int8 scheme
// ran, against its emulation (f32 rounding bound).
void expect_linear_within_int8_bounds(const std::vector<float>& fast, const std::vector<float>& exact_ref,
                                      const Int8GemmOracle& oracle, bool int8) {
  for (size_t i = 0; i < fast.size(); ++i) {
    ASSERT_LE(std::fabs(double(fast[i]) - double(exact_ref[i])), oracle.quant_tol[i]) << "output " << i;
    if (int8) {
      ASSERT_NEAR(double(fast[i]), oracle.emul[i], oracle.round_tol[i]) << "output " << i;
    }
  }
}

// SwiGLU outputs (out / 2 per row) against the exact oracle: the pre-activation bound
// carried through the epilogue (top of the file).
void expect_swiglu_within_int8_bounds(const std::vector<float>& act, const std::vector<float>& act_ref,
                                      const Int8GemmOracle& oracle, int64_t out) {
  const size_t half = size_t(out / 2);
  for (size_t i = 0; i < act.size(); ++i) {
    const size_t r = i / half, j = i % half;
    const double dg = oracle.quant_tol[r * size_t(out) + 2 * j], dl = oracle.quant_tol[r * size_t(out) + 2 * j + 1];
    const double tol = 1.1 * (8.0 + dl) * dg + 7.0 * dl + 1e-5 * (1.0 + std::fabs(act_ref[i]));
    ASSERT_LE(std::fabs(double(act[i]) - double(act_ref[i])), tol) << "output " << i;
  }
}

class GroupedMxfp4Int8Test : public ::testing::TestWithParam<Int8GemmCase> {};

TEST_P(GroupedMxfp4Int8Test, LinearWithinInt8Bounds) {
  const auto c = GetParam();
  const Int8GemmProblem p(c, 31);
  const ExpertGroups& g = p.g;
  const auto& w = p.w;
  const auto& x = p.x;
  const auto& bias = p.bias;
  ThreadPool& pool = *test::exec3().pool;
  const size_t n = size_t(g.rows() * c.out);
  std::vector<float> fast(n), exact_ref(n), avx2_fast(n), avx2_exact(n);
  cpu::grouped_mxfp4(pool, fast.data(), x.data(), g, w.views.data(), bias.data(), nullptr, true, Precision::kFast);
  ref::grouped_mxfp4_linear(exact_ref.data(), x.data(), g, w.views.data(), bias.data());
  // Both the tile path and the GEMV path (experts with at most 4 rows) run the int8 scheme.
  expect_linear_within_int8_bounds(fast, exact_ref, int8gemm_oracle(x, g, w.views.data(), bias.data()),
                                   cpu::grouped_mxfp4_int8_supported());
  cpu::grouped_mxfp4(pool, avx2_fast.data(), x.data(), g, w.views.data(), bias.data(), nullptr, false, Precision::kFast);
  cpu::grouped_mxfp4(pool, avx2_exact.data(), x.data(), g, w.views.data(), bias.data(), nullptr, false, Precision::kExact);
  EXPECT_EQ(avx2_fast, avx2_exact);
}

TEST_P(GroupedMxfp4Int8Test, SwigluWithinInt8Bounds) {
  const auto c = GetParam();
  const Int8GemmProblem p(c, 41);
  const ExpertGroups& g = p.g;
  const auto& w = p.w;
  const auto& x = p.x;
  const auto& bias = p.bias;
  ThreadPool& pool = *test::exec3().pool;
  const int64_t half = c.out / 2;
  const size_t n = size_t(g.rows() * half);
  const cpu::SwigluEpilogue swiglu{1.702f, 7.f};
  std::vector<float> fast(n), exact_ref(n), avx2_fast(n), avx2_exact(n);
  cpu::grouped_mxfp4(pool, fast.data(), x.data(), g, w.views.data(), bias.data(), &swiglu, true, Precision::kFast);
  ref::grouped_mxfp4_swiglu(exact_ref.data(), x.data(), g, w.views.data(), bias.data(), 1.702f, 7.f);
  expect_swiglu_within_int8_bounds(fast, exact_ref, int8gemm_oracle(x, g, w.views.data(), bias.data()), c.out);
  cpu::grouped_mxfp4(pool, avx2_fast.data(), x.data(), g, w.views.data(), bias.data(), &swiglu, false, Precision::kFast);
  cpu::grouped_mxfp4(pool, avx2_exact.data(), x.data(), g, w.views.data(), bias.data(), &swiglu, false,
                     Precision::kExact);
  EXPECT_EQ(avx2_fast, avx2_exact);
}

// A case's experts in the packed layout, as kernels/weight_prep.cpp makes them in fast mode.
struct PackedExperts {
  std::vector<uint8_t> bytes;
  std::vector<Mxfp4Weight> views;
  explicit PackedExperts(const std::vector<Mxfp4Weight>& stored) : views(stored) {
    cpu::pack_mxfp4_views(*test::exec3().pool, views, bytes);
  }
};

// allow_avx512 false: the AVX2 kernels on the same packed bytes (what an AVX2-only CPU runs).
TEST_P(GroupedMxfp4Int8Test, PackedWeightsWithinInt8Bounds) {
  const auto c = GetParam();
  const Int8GemmProblem p(c, 51);
  const PackedExperts packed(p.w.views);
  ThreadPool& pool = *test::exec3().pool;
  const size_t n = size_t(p.g.rows() * c.out);
  std::vector<float> exact_ref(n);
  ref::grouped_mxfp4_linear(exact_ref.data(), p.x.data(), p.g, p.w.views.data(), p.bias.data());
  const auto oracle = int8gemm_oracle(p.x, p.g, p.w.views.data(), p.bias.data());
  const cpu::SwigluEpilogue swiglu{1.702f, 7.f};
  std::vector<float> act_ref(size_t(p.g.rows() * (c.out / 2)));
  ref::grouped_mxfp4_swiglu(act_ref.data(), p.x.data(), p.g, p.w.views.data(), p.bias.data(), 1.702f, 7.f);
  for (bool allow_avx512 : {true, false}) {
    SCOPED_TRACE(allow_avx512 ? "AVX-512 where present" : "AVX2");
    std::vector<float> fast(n);
    cpu::grouped_mxfp4(pool, fast.data(), p.x.data(), p.g, packed.views.data(), p.bias.data(), nullptr, allow_avx512,
                       Precision::kFast);
    expect_linear_within_int8_bounds(fast, exact_ref, oracle, true);
    // SwiGLU on the same packed experts.
    std::vector<float> act(act_ref.size());
    cpu::grouped_mxfp4(pool, act.data(), p.x.data(), p.g, packed.views.data(), p.bias.data(), &swiglu, allow_avx512,
                       Precision::kFast);
    expect_swiglu_within_int8_bounds(act, act_ref, oracle, c.out);
  }
}

// The AVX2 packer and quantiser against the AVX-512 ones (which the tests above judge by
// value): the same bytes, so a cache file written on one path reads right on the other.
TEST_P(GroupedMxfp4Int8Test, Avx2PackerAndQuantiserMatchTheAvx512Ones) {
  if (!cpu::grouped_mxfp4_int8_supported()) GTEST_SKIP() << "no AVX-512 VNNI to compare with";
  const auto c = GetParam();
  const Int8GemmProblem p(c, 71);
  const PackedExperts packed(p.w.views);
  const int64_t nb = c.in / kMxfp4BlockSize, groups = (c.out + cpu::kInt8GroupRows - 1) / cpu::kInt8GroupRows;
  for (size_t e = 0; e < p.w.views.size(); ++e) {
    const Mxfp4Weight& w = p.w.views[e];
    std::vector<uint8_t> portable(size_t(cpu::packed_mxfp4_bytes(w)), uint8_t{0xAB});
    cpu::pack_groups_portable(w.blocks, w.scales, w.stride(), nb, w.out, 0, groups, portable.data());
    const size_t used = size_t(groups * nb * (cpu::kPackedGroupBlockBytes + cpu::kInt8GroupRows));
    ASSERT_TRUE(std::equal(portable.begin(), portable.begin() + long(used), packed.views[e].packed)) << "expert " << e;
  }
  const int64_t rows = int64_t(p.x.size()) / c.in;
  std::vector<int8_t> q512(size_t(rows * c.in)), q2(q512.size());
  std::vector<float> s512(size_t(rows * nb)), s2(s512.size());
  std::vector<int32_t> c512(s512.size()), c2(s512.size());
  cpu::quantize_rows_int8_avx512(p.x.data(), 0, rows, cpu::Int8Rows{q512.data(), s512.data(), c512.data(), c.in});
  cpu::quantize_rows_int8_avx2(p.x.data(), 0, rows, cpu::Int8Rows{q2.data(), s2.data(), c2.data(), c.in});
  EXPECT_EQ(q512, q2);
  EXPECT_EQ(s512, s2);
  EXPECT_EQ(c512, c2);
}

// The two dot forms of the AVX2 packed GEMV (AVX-VNNI vpdpbusd, vpmaddubsw + vpmaddwd) sum
// the same integers, so their floats agree bit for bit, for 1..6 tokens and a partial group.
TEST_P(GroupedMxfp4Int8Test, AvxVnniGemvMatchesTheMaddubsOne) {
  if (!cpu::cpu_features().avx_vnni) GTEST_SKIP() << "no AVX-VNNI";
  const auto c = GetParam();
  const Int8GemmProblem p(c, 81);
  const PackedExperts packed(p.w.views);
  const int64_t nb = c.in / kMxfp4BlockSize, rows = int64_t(p.x.size()) / c.in;
  std::vector<int8_t> q(size_t(rows * c.in));
  std::vector<float> scale(size_t(rows * nb));
  std::vector<int32_t> corr(scale.size());
  const cpu::Int8Rows x{q.data(), scale.data(), corr.data(), c.in};
  cpu::quantize_rows_int8_avx2(p.x.data(), 0, rows, x);
  for (int tokens = 1; tokens <= std::min<int>(cpu::kPackedGemvMaxTokens, int(rows)); ++tokens) {
    cpu::PackedGemvJob job;
    job.packed = packed.views[0].packed;
    job.groups = (c.out + cpu::kInt8GroupRows - 1) / cpu::kInt8GroupRows;
    job.nb = nb;
    job.x = &x;
    job.row0 = rows - tokens;
    job.tokens = tokens;
    job.res_ld = c.out;
    std::vector<float> vnni(size_t(tokens * c.out), -1.f), maddubs(vnni.size(), -2.f);
    job.res = vnni.data();
    cpu::packed_gemv_rows_avxvnni(job, 0, c.out);
    job.res = maddubs.data();
    cpu::packed_gemv_rows_avx2_maddubs(job, 0, c.out);
    EXPECT_EQ(vnni, maddubs) << tokens << " tokens";
  }
}

// Packed weights outside fast mode are a bug in the caller (only fast packs them).
TEST(GroupedMxfp4Packed, RefusedOutsideTheInt8Path) {
  const Int8GemmProblem p(kInt8GemmCases[0], 61);
  const PackedExperts packed(p.w.views);
  std::vector<float> y(size_t(p.g.rows() * kInt8GemmCases[0].out));
  EXPECT_THROW(cpu::grouped_mxfp4(*test::exec3().pool, y.data(), p.x.data(), p.g, packed.views.data(), p.bias.data(),
                                  nullptr, true, Precision::kExact),
               Error);
}

INSTANTIATE_TEST_SUITE_P(Shapes, GroupedMxfp4Int8Test, ::testing::ValuesIn(kInt8GemmCases),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace gossamer::kernels
