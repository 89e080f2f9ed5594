// Backend-ops table entries (backend_ops.h) of the dense ops: rmsnorm, linear,
// mxfp4_linear, router_topk_softmax, swiglu, on the CPU and on CUDA (inputs copied with
// test::OnDevice).
#include <fmt/format.h>

#include "backend_ops.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/linear.h"
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
#include "on_device.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::BackendOp;
using test::BackendOpRegistration;
using test::OnDevice;
using test::ShapeError;

const BackendOpRegistration kRmsnorm{BackendOp{
    "rmsnorm", 1e-6, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, dim] : {std::pair<int64_t, int64_t>{1, 64}, {7, 96}, {33, 2880}}) {
        auto x = test::random_vec(size_t(n * dim), 1, -3.f, 3.f), gain = test::random_vec(size_t(dim), 2);
        std::vector<float> yr(x.size());
        OnDevice<float> dx(exec, x), dg(exec, gain), dy(exec, x.size());
        rmsnorm(exec, dy.ptr(), dx.ptr(), dg.ptr(), n, dim, 1e-5f);
        ref::rmsnorm(yr.data(), x.data(), gain.data(), n, dim, 1e-5f);
        errs.push_back({fmt::format("n={} dim={}", n, dim), test::rel_err(dy.host(), yr)});
      }
      return errs;
    }}};

const BackendOpRegistration kLinear{BackendOp{
    "linear", 1e-5, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      // n <= 8 and n > 8 take different CUDA paths (GEMV kernel, cuBLAS); in = 90 with
      // row_stride 96 is a column slice whose rows are not 16-byte aligned.
      for (auto [n, out, in, stride] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{1, 33, 64, 0}, {5, 70, 96, 0},
                                        {8, 41, 90, 96}, {17, 128, 2880, 0}, {64, 200, 96, 0}})
        for (DType dt : {DType::kBF16, DType::kF32}) {
          const int64_t rs = stride ? stride : in;
          auto wf = test::random_vec(size_t(out * rs), 3);
          auto wb = test::random_bf16(size_t(out * rs), 3);
          const DenseWeight w{dt == DType::kF32 ? static_cast<const void*>(wf.data()) : wb.data(), dt, out, in, stride};
          auto x = test::random_vec(size_t(n * in), 4), bias = test::random_vec(size_t(out), 5);
          std::vector<float> yr(size_t(n * out));
          OnDevice<float> dwf(exec, wf), dx(exec, x), dbias(exec, bias), dy(exec, yr.size());
          OnDevice<uint16_t> dwb(exec, wb);
          DenseWeight dw = w;
          dw.data = dt == DType::kF32 ? static_cast<const void*>(dwf.ptr()) : dwb.ptr();
          linear(exec, dy.ptr(), dx.ptr(), n, dw, dbias.ptr());
          ref::linear(yr.data(), x.data(), n, w, bias.data());
          errs.push_back({fmt::format("n={} out={} in={} stride={} {}", n, out, in, rs, dtype_name(dt)),
                          test::rel_err(dy.host(), yr)});
        }
      return errs;
    },
    /*cuda_tolerance=*/5e-3}};  // n > 8 with bf16 weights: x rounded to bf16 for cuBLAS (2^-9 per element)

// One shape of the dense linear in Precision::kFast (CPU) against the oracle of the path
// it takes: where x is rounded to bf16 (decode sizes, avx512_bf16) the oracle rounds it
// too, so only the f32 accumulation order differs; the fp16 path (prefill sizes,
// AVX512-FP16) and the exact kernel meet the exact oracle.
ShapeError fast_linear_error(const Exec& exact_exec, int64_t n, int64_t out, int64_t in, int64_t stride) {
  Exec exec = exact_exec;
  exec.precision = Precision::kFast;
  const int64_t rs = stride ? stride : in;
  const bool rounds = cpu::linear_fast_rounds_x(cpu::active_isa(), n);
  const bool fp16 = cpu::linear_fast_uses_fp16(cpu::active_isa(), n);
  auto wb = test::random_bf16(size_t(out * rs), 3);
  const DenseWeight w{wb.data(), DType::kBF16, out, in, stride};
  auto x = test::random_vec(size_t(n * in), 4), bias = test::random_vec(size_t(out), 5);
  std::vector<float> y(size_t(n * out)), yr(y.size());
  linear(exec, y.data(), x.data(), n, w, bias.data());
  if (rounds) ref::linear_bf16_x(yr.data(), x.data(), n, w, bias.data());
  else ref::linear(yr.data(), x.data(), n, w, bias.data());
  return {fmt::format("n={} out={} in={} stride={}{}", n, out, in, rs, rounds ? " bf16 x" : fp16 ? " fp16" : ""),
          test::rel_err(y, yr)};
}

// The bf16-x and exact paths: the exact op's bound. Prefill sizes that take the fp16
// kernel are linear_fast_fp16's.
const BackendOpRegistration kLinearFast{BackendOp{
    "linear_fast", 1e-5, {Device::kCPU}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, out, in, stride] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{1, 33, 64, 0}, {3, 70, 96, 0},
                                        {2, 41, 90, 96}, {17, 128, 2880, 0}, {64, 200, 96, 0}, {1, 9, 4096, 0}})
        if (!cpu::linear_fast_uses_fp16(cpu::active_isa(), n)) errs.push_back(fast_linear_error(exec, n, out, in, stride));
      return errs;
    }}};

// Precision::kFast for prefill-sized n on a CPU with AVX512-FP16 (kernels/cpu/avx512/
// dense_fp16.cpp): x rounded to 11 bits after a power-of-two scale and fp16 partial sums of
// 32 products, against the exact oracle: an RMS error of a few 1e-4 (below the 2^-9 of
// rounding x to bf16, which the decode path does); the tolerance is 3e-3. Without
// AVX512-FP16 these n run the exact kernel, held to the same oracle.
const BackendOpRegistration kLinearFastFp16{BackendOp{
    "linear_fast_fp16", 3e-3, {Device::kCPU}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, out, in, stride] : {std::tuple<int64_t, int64_t, int64_t, int64_t>{32, 33, 64, 0}, {37, 128, 2880, 0},
                                        {64, 200, 96, 0}, {33, 41, 90, 96}, {40, 2880, 4096, 0}})
        errs.push_back(fast_linear_error(exec, n, out, in, stride));
      return errs;
    }}};

const BackendOpRegistration kEmbedding{BackendOp{
    "embedding_lookup", 0, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [rows, dim, n] : {std::tuple<int64_t, int64_t, int64_t>{10, 64, 1}, {1000, 96, 37}})
        for (DType dt : {DType::kBF16, DType::kF32}) {
          auto tf = test::random_vec(size_t(rows * dim), 12);
          auto tb = test::random_bf16(size_t(rows * dim), 12);
          const DenseWeight t{dt == DType::kF32 ? static_cast<const void*>(tf.data()) : tb.data(), dt, rows, dim, 0};
          std::vector<int32_t> ids(static_cast<size_t>(n));
          for (int64_t i = 0; i < n; ++i) ids[size_t(i)] = int32_t((i * 7919 + 3) % rows);
          std::vector<float> want(size_t(n * dim));
          OnDevice<float> dtf(exec, tf), dout(exec, want.size());
          OnDevice<uint16_t> dtb(exec, tb);
          OnDevice<int32_t> dids(exec, ids);
          DenseWeight dt_view = t;
          dt_view.data = dt == DType::kF32 ? static_cast<const void*>(dtf.ptr()) : dtb.ptr();
          embedding_lookup(exec, dout.ptr(), dt_view, dids.ptr(), n);
          ref::embedding_lookup(want.data(), t, ids.data(), n);
          errs.push_back({fmt::format("rows={} dim={} n={} {}", rows, dim, n, dtype_name(dt)),
                          dout.host() == want ? 0.0 : test::kMismatch});
        }
      return errs;
    }}};

const BackendOpRegistration kMxfp4Linear{BackendOp{
    "mxfp4_linear", 1e-5, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, out, in] : {std::tuple<int64_t, int64_t, int64_t>{1, 45, 64}, {3, 45, 96}, {8, 33, 2880}}) {
        test::RandomExperts w(1, out, in, 6);
        auto x = test::random_vec(size_t(n * in), 7), bias = test::random_vec(size_t(out), 8);
        std::vector<float> yr(size_t(n * out));
        OnDevice<uint8_t> dblocks(exec, w.blocks), dscales(exec, w.scales);
        OnDevice<float> dx(exec, x), dbias(exec, bias), dy(exec, yr.size());
        Mxfp4Weight dw = w.views[0];
        dw.blocks = dblocks.ptr();
        dw.scales = dscales.ptr();
        mxfp4_linear(exec, dy.ptr(), dx.ptr(), n, dw, dbias.ptr());
        ref::mxfp4_linear(yr.data(), x.data(), n, w.views[0], bias.data());
        errs.push_back({fmt::format("n={} out={} in={}", n, out, in), test::rel_err(dy.host(), yr)});
      }
      return errs;
    }}};

const BackendOpRegistration kRouter{BackendOp{
    "router_topk_softmax", 1e-6, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, E, k] : {std::tuple<int64_t, int, int>{1, 32, 4}, {17, 32, 4}, {9, 5, 5}, {64, 128, 4}}) {
        auto logits = test::random_vec(size_t(n * E), uint32_t(E + k), -4.f, 4.f);
        std::vector<int32_t> er(size_t(n * k));
        std::vector<float> wr(er.size());
        OnDevice<float> dlogits(exec, logits), dw(exec, er.size());
        OnDevice<int32_t> de(exec, er.size());
        router_topk_softmax(exec, dlogits.ptr(), n, E, k, de.ptr(), dw.ptr());
        ref::router_topk_softmax(logits.data(), n, E, k, er.data(), wr.data());
        errs.push_back(
            {fmt::format("n={} E={} k={}", n, E, k), de.host() == er ? test::rel_err(dw.host(), wr) : test::kMismatch});
      }
      return errs;
    }}};

const BackendOpRegistration kSwiglu{BackendOp{
    "swiglu", 1e-6, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (auto [n, I] : {std::pair<int64_t, int64_t>{1, 16}, {7, 96}, {33, 2880}}) {
        auto gu = test::random_vec(size_t(n * 2 * I), 9, -10.f, 10.f);  // both sides of the clamp
        std::vector<float> yr(size_t(n * I));
        OnDevice<float> dgu(exec, gu), dy(exec, yr.size());
        swiglu_clamped(exec, dy.ptr(), dgu.ptr(), n, I, 1.702f, 7.f);
        ref::swiglu_clamped(yr.data(), gu.data(), n, I, 1.702f, 7.f);
        errs.push_back({fmt::format("n={} I={}", n, I), test::rel_err(dy.host(), yr)});
      }
      return errs;
    }}};

}  // namespace
}  // namespace gossamer::kernels
