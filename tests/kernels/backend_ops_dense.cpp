// Backend-ops table entries (backend_ops.h) of the dense ops: rmsnorm, linear,
// mxfp4_linear, router_topk_softmax, swiglu. CPU runners only: the CUDA backend's own
// checks live in test_cuda.cpp until these runners learn to copy to the device.
#include <fmt/format.h>

#include "backend_ops.h"
#include "kernels/linear.h"
#include "kernels/mxfp4_linear.h"
#include "kernels/ref/linear.h"
#include "kernels/ref/mxfp4_linear.h"
#include "kernels/ref/rmsnorm.h"
#include "kernels/ref/router.h"
#include "kernels/ref/swiglu.h"
#include "kernels/rmsnorm.h"
#include "kernels/router.h"
#include "kernels/swiglu.h"
#include "moe_test_data.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::BackendOp;
using test::BackendOpRegistration;
using test::ShapeError;

const BackendOpRegistration kRmsnorm{BackendOp{
    "rmsnorm", 1e-6, {Device::kCPU}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, dim] : {std::pair<int64_t, int64_t>{1, 64}, {7, 96}, {33, 2880}}) {
        auto x = test::random_vec(size_t(n * dim), 1, -3.f, 3.f), gain = test::random_vec(size_t(dim), 2);
        std::vector<float> y(x.size()), yr(x.size());
        rmsnorm(exec, y.data(), x.data(), gain.data(), n, dim, 1e-5f);
        ref::rmsnorm(yr.data(), x.data(), gain.data(), n, dim, 1e-5f);
        errs.push_back({fmt::format("n={} dim={}", n, dim), test::rel_err(y, yr)});
      }
      return errs;
    }}};

const BackendOpRegistration kLinear{BackendOp{
    "linear", 1e-5, {Device::kCPU}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, out, in] : {std::tuple<int64_t, int64_t, int64_t>{1, 33, 64}, {5, 70, 96}, {17, 128, 2880}})
        for (DType dt : {DType::kBF16, DType::kF32}) {
          auto wf = test::random_vec(size_t(out * in), 3);
          auto wb = test::random_bf16(size_t(out * in), 3);
          const DenseWeight w{dt == DType::kF32 ? static_cast<const void*>(wf.data()) : wb.data(), dt, out, in, 0};
          auto x = test::random_vec(size_t(n * in), 4), bias = test::random_vec(size_t(out), 5);
          std::vector<float> y(size_t(n * out)), yr(y.size());
          linear(exec, y.data(), x.data(), n, w, bias.data());
          ref::linear(yr.data(), x.data(), n, w, bias.data());
          errs.push_back({fmt::format("n={} out={} in={} {}", n, out, in, dtype_name(dt)), test::rel_err(y, yr)});
        }
      return errs;
    }}};

const BackendOpRegistration kMxfp4Linear{BackendOp{
    "mxfp4_linear", 1e-5, {Device::kCPU}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, out, in] : {std::tuple<int64_t, int64_t, int64_t>{1, 45, 64}, {3, 45, 96}, {8, 33, 2880}}) {
        test::RandomExperts w(1, out, in, 6);
        auto x = test::random_vec(size_t(n * in), 7), bias = test::random_vec(size_t(out), 8);
        std::vector<float> y(size_t(n * out)), yr(y.size());
        mxfp4_linear(exec, y.data(), x.data(), n, w.views[0], bias.data());
        ref::mxfp4_linear(yr.data(), x.data(), n, w.views[0], bias.data());
        errs.push_back({fmt::format("n={} out={} in={}", n, out, in), test::rel_err(y, yr)});
      }
      return errs;
    }}};

const BackendOpRegistration kRouter{BackendOp{
    "router_topk_softmax", 1e-6, {Device::kCPU}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, E, k] : {std::tuple<int64_t, int, int>{1, 32, 4}, {17, 32, 4}, {9, 5, 5}, {64, 128, 4}}) {
        auto logits = test::random_vec(size_t(n * E), uint32_t(E + k), -4.f, 4.f);
        std::vector<int32_t> e(size_t(n * k)), er(e.size());
        std::vector<float> w(e.size()), wr(e.size());
        router_topk_softmax(exec, logits.data(), n, E, k, e.data(), w.data());
        ref::router_topk_softmax(logits.data(), n, E, k, er.data(), wr.data());
        errs.push_back({fmt::format("n={} E={} k={}", n, E, k), e == er ? test::rel_err(w, wr) : test::kMismatch});
      }
      return errs;
    }}};

const BackendOpRegistration kSwiglu{BackendOp{
    "swiglu", 1e-6, {Device::kCPU}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, I] : {std::pair<int64_t, int64_t>{1, 16}, {7, 96}, {33, 2880}}) {
        auto gu = test::random_vec(size_t(n * 2 * I), 9, -10.f, 10.f);  // both sides of the clamp
        std::vector<float> y(size_t(n * I)), yr(y.size());
        swiglu_clamped(exec, y.data(), gu.data(), n, I, 1.702f, 7.f);
        ref::swiglu_clamped(yr.data(), gu.data(), n, I, 1.702f, 7.f);
        errs.push_back({fmt::format("n={} I={}", n, I), test::rel_err(y, yr)});
      }
      return errs;
    }}};

}  // namespace
}  // namespace gossamer::kernels
