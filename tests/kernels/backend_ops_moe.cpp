// Backend-ops table entries (backend_ops.h) of the batched MoE ops: moe_permute,
// grouped_mxfp4_linear, grouped_mxfp4_swiglu, moe_unpermute, moe_combine, on the CPU and
// on CUDA (inputs copied with test::OnDevice); the grouped GEMMs in precision fast too (CPU).
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "backend_ops.h"
#include "kernels/cpu/grouped_mxfp4.h"
#include "kernels/cpu/mxfp4_pack.h"
#include "kernels/grouped_mxfp4.h"
#include "kernels/moe_combine.h"
#include "kernels/moe_permute.h"
#include "kernels/ref/grouped_mxfp4.h"
#include "kernels/ref/moe_combine.h"
#include "kernels/ref/moe_permute.h"
#include "moe_test_data.h"
#include "on_device.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::BackendOp;
using test::BackendOpRegistration;
using test::OnDevice;
using test::ShapeError;

struct MoeShape {
  int64_t n;
  int k, n_experts;
  ExpertRange local;
  test::RoutingKind kind;
  int64_t H;
};
const MoeShape kShapes[] = {
    {1, 4, 32, {0, 32}, test::RoutingKind::kRandom, 64},
    {7, 2, 8, {2, 4}, test::RoutingKind::kRandom, 96},
    {9, 2, 8, {0, 8}, test::RoutingKind::kFewExperts, 160},
    {12, 1, 4, {0, 4}, test::RoutingKind::kAllOnFirst, 96},
    {300, 4, 32, {0, 32}, test::RoutingKind::kRandom, 96},
};
std::string describe(const MoeShape& s) {
  return fmt::format("n={} k={} experts {}+{} of {} H={}", s.n, s.k, s.local.first, s.local.count, s.n_experts, s.H);
}

// The shape's routing, permuted by the oracle (the input of the ops after permute).
struct Routed {
  std::vector<int32_t> experts;
  test::PermuteBuffers perm;
  int64_t rows;
  explicit Routed(const MoeShape& s, uint32_t seed)
      : experts(test::random_routing(s.n, s.k, s.n_experts, s.kind, seed)), perm(s.n, s.k, s.local.count, 0),
        rows(ref::moe_permute(experts.data(), s.n, s.k, s.local, perm.out(), nullptr, 0)) {}
};

const BackendOpRegistration kPermute{BackendOp{
    "moe_permute", 0, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (const auto& s : kShapes) {
        const Routed want(s, 1);
        test::PermuteBuffers got(s.n, s.k, s.local.count, s.H), gathered_ref(s.n, s.k, s.local.count, s.H);
        const auto x = test::random_vec(size_t(s.n * s.H), 2);
        OnDevice<int32_t> d_experts(exec, want.experts), d_token(exec, got.row_token), d_slot(exec, got.row_slot),
            d_pair(exec, got.pair_row);
        OnDevice<int64_t> d_offsets(exec, got.offsets);
        OnDevice<float> d_x(exec, x), d_gathered(exec, got.gathered);
        const MoePermutation d_out{d_offsets.ptr(), d_token.ptr(), d_slot.ptr(), d_pair.ptr(), d_gathered.ptr()};
        const int64_t rows = moe_permute(exec, d_experts.ptr(), s.n, s.k, s.local, d_out, d_x.ptr(), s.H);
        got.offsets = d_offsets.host();
        got.row_token = d_token.host();
        got.row_slot = d_slot.host();
        got.pair_row = d_pair.host();
        got.gathered = d_gathered.host();
        ref::moe_permute(want.experts.data(), s.n, s.k, s.local, gathered_ref.out(), x.data(), s.H);
        const int64_t kept = std::clamp<int64_t>(rows, 0, s.n * s.k);  // a wrong count must not resize wildly
        got.row_token.resize(size_t(kept));
        got.row_slot.resize(size_t(kept));
        // Rows past the count are written by neither: compare the written ones.
        got.gathered.resize(size_t(kept * s.H));
        gathered_ref.gathered.resize(size_t(kept * s.H));
        auto want_tokens = want.perm.row_token, want_slots = want.perm.row_slot;
        want_tokens.resize(size_t(want.rows));
        want_slots.resize(size_t(want.rows));
        const bool same = rows == want.rows && got.offsets == want.perm.offsets && got.row_token == want_tokens &&
                          got.row_slot == want_slots && got.pair_row == want.perm.pair_row &&
                          got.gathered == gathered_ref.gathered;
        errs.push_back({describe(s), same ? 0.0 : test::kMismatch});
      }
      return errs;
    }}};

// x as precision fast's int8 kernels see it: each row's blocks of 32 quantised to int8
// with scale max|x|/127 (round to nearest even, as the kernels do) and multiplied back.
// The oracle run on this input differs from the kernel only by f32 rounding and order,
// so the fast ops keep the exact ops' 1e-5 tolerance instead of a quantisation bound.
std::vector<float> int8_block_roundtrip(std::vector<float> x) {
  for (size_t b = 0; b < x.size(); b += 32) {
    float amax = 0.f;
    for (size_t i = b; i < b + 32; ++i) amax = std::max(amax, std::fabs(x[i]));
    const float inv = amax > 0.f ? 127.f / amax : 0.f, scale = amax / 127.f;
    for (size_t i = b; i < b + 32; ++i) x[i] = std::nearbyint(x[i] * inv) * scale;
  }
  return x;
}

// Both grouped GEMM variants; the SwiGLU one when `swiglu`. `fast`: Precision::kFast, whose
// int8 path (AVX-512 VNNI; packed experts on the AVX2 path too) is checked against the oracle
// on the int8-rounded input; where that path is absent fast runs the exact kernel against
// the plain oracle. `packed`: the
// experts repacked as the engine does at load in fast mode (kernels/cpu/mxfp4_pack.h),
// where it does (int8 path present).
std::vector<ShapeError> run_grouped(const Exec& exact_exec, bool swiglu, bool fast = false, bool packed = false) {
  Exec exec = exact_exec;
  if (fast) exec.precision = Precision::kFast;
  // Packed experts run int8 kernels on every CPU (kernels/cpu/mxfp4_packed_avx2.cpp without
  // AVX-512 VNNI).
  const bool int8 = fast && (cpu::grouped_mxfp4_int8_supported() || packed);
  std::vector<ShapeError> errs;
  for (const auto& s : kShapes)
    for (bool with_bias : {true, false}) {
      const Routed r(s, 3);
      const int64_t out = 2 * 48, in = s.H;
      test::RandomExperts w(s.local.count, out, in, 4);
      const auto x = test::random_vec(size_t(s.n * in), 5), bias = test::random_vec(size_t(s.local.count * out), 6);
      const auto x_oracle = int8 ? int8_block_roundtrip(x) : x;
      const float* b = with_bias ? bias.data() : nullptr;
      const ExpertGroups g{r.perm.offsets.data(), s.local.count, r.perm.row_token.data()};
      const int64_t width = swiglu ? out / 2 : out;
      std::vector<float> yr(size_t(r.rows * width));
      // Experts' weights and the permutation's index arrays on the device.
      OnDevice<uint8_t> d_blocks(exec, w.blocks), d_scales(exec, w.scales);
      OnDevice<int64_t> d_offsets(exec, r.perm.offsets);
      OnDevice<int32_t> d_rows(exec, r.perm.row_token);
      OnDevice<float> d_x(exec, x), d_bias(exec, bias), d_y(exec, yr.size());
      std::vector<Mxfp4Weight> d_views = w.views;
      for (size_t e = 0; e < d_views.size(); ++e) {
        d_views[e].blocks = d_blocks.ptr() + (w.views[e].blocks - w.blocks.data());
        d_views[e].scales = d_scales.ptr() + (w.views[e].scales - w.scales.data());
      }
      std::vector<uint8_t> packed_bytes;
      if (packed && int8) cpu::pack_mxfp4_views(exec.threads(), d_views, packed_bytes);
      const ExpertGroups dg{d_offsets.ptr(), s.local.count, d_rows.ptr()};
      const float* db = with_bias ? d_bias.ptr() : nullptr;
      if (swiglu) {
        grouped_mxfp4_swiglu(exec, d_y.ptr(), d_x.ptr(), dg, d_views.data(), db, 1.702f, 7.f);
        ref::grouped_mxfp4_swiglu(yr.data(), x_oracle.data(), g, w.views.data(), b, 1.702f, 7.f);
      } else {
        grouped_mxfp4_linear(exec, d_y.ptr(), d_x.ptr(), dg, d_views.data(), db);
        ref::grouped_mxfp4_linear(yr.data(), x_oracle.data(), g, w.views.data(), b);
      }
      const auto y = d_y.host();
      errs.push_back({describe(s) + fmt::format(" out={}{}{}{}", out, with_bias ? " bias" : "", int8 ? " int8" : "",
                                                 packed_bytes.empty() ? "" : " packed"),
                      test::rel_err(y, yr)});
    }
  return errs;
}

const BackendOpRegistration kGroupedLinear{BackendOp{
    "grouped_mxfp4_linear", 1e-5, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) { return run_grouped(exec, false); }}};
const BackendOpRegistration kGroupedSwiglu{BackendOp{
    "grouped_mxfp4_swiglu", 1e-5, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) { return run_grouped(exec, true); }}};

const BackendOpRegistration kGroupedLinearFast{BackendOp{
    "grouped_mxfp4_linear_fast", 1e-5, {Device::kCPU}, [](const Exec& exec) { return run_grouped(exec, false, true); }}};
const BackendOpRegistration kGroupedSwigluFast{BackendOp{
    "grouped_mxfp4_swiglu_fast", 1e-5, {Device::kCPU}, [](const Exec& exec) { return run_grouped(exec, true, true); }}};

const BackendOpRegistration kGroupedLinearFastPacked{BackendOp{
    "grouped_mxfp4_linear_fast_packed", 1e-5, {Device::kCPU},
    [](const Exec& exec) { return run_grouped(exec, false, true, true); }}};
const BackendOpRegistration kGroupedSwigluFastPacked{BackendOp{
    "grouped_mxfp4_swiglu_fast_packed", 1e-5, {Device::kCPU},
    [](const Exec& exec) { return run_grouped(exec, true, true, true); }}};

const BackendOpRegistration kUnpermute{BackendOp{
    "moe_unpermute", 0, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (const auto& s : kShapes) {
        const Routed r(s, 7);
        const int64_t pairs = s.n * s.k;
        const auto y = test::random_vec(size_t(std::max<int64_t>(r.rows, 1) * s.H), 8);
        std::vector<float> outr(size_t(pairs * s.H));
        OnDevice<float> d_y(exec, y), d_out(exec, outr.size());
        OnDevice<int32_t> d_pair(exec, r.perm.pair_row);
        moe_unpermute(exec, d_out.ptr(), d_y.ptr(), d_pair.ptr(), pairs, s.H);
        ref::moe_unpermute(outr.data(), y.data(), r.perm.pair_row.data(), pairs, s.H);
        errs.push_back({describe(s), d_out.host() == outr ? 0.0 : test::kMismatch});
      }
      return errs;
    }}};

const BackendOpRegistration kCombine{BackendOp{
    "moe_combine", 1e-6, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (const auto& s : kShapes) {
        const Routed r(s, 9);
        const auto y = test::random_vec(size_t(std::max<int64_t>(r.rows, 1) * s.H), 10);
        const auto w = test::random_vec(size_t(s.n * s.k), 11, 0.f, 1.f);
        std::vector<float> outr(size_t(s.n * s.H));
        OnDevice<float> d_y(exec, y), d_w(exec, w), d_out(exec, outr.size());
        OnDevice<int32_t> d_pair(exec, r.perm.pair_row);
        moe_combine(exec, d_out.ptr(), d_y.ptr(), d_pair.ptr(), d_w.ptr(), s.n, s.k, s.H);
        ref::moe_combine(outr.data(), y.data(), r.perm.pair_row.data(), w.data(), s.n, s.k, s.H);
        errs.push_back({describe(s), test::rel_err(d_out.host(), outr)});
      }
      return errs;
    }}};

}  // namespace
}  // namespace gossamer::kernels
