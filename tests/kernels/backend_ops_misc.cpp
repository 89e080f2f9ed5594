// Backend-ops table entries (backend_ops.h) of the remaining forward-pass ops: rope_apply,
// add_inplace, axpy and sample_tokens, on the CPU and on CUDA (test::OnDevice copies).
#include <fmt/format.h>

#include "backend_ops.h"
#include "kernels/elementwise.h"
#include "kernels/ref/elementwise.h"
#include "kernels/ref/rope.h"
#include "kernels/ref/sampling.h"
#include "kernels/rope.h"
#include "kernels/sampling.h"
#include "on_device.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::BackendOp;
using test::BackendOpRegistration;
using test::OnDevice;
using test::ShapeError;

const BackendOpRegistration kRope{BackendOp{
    "rope_apply", 1e-6, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (int head_dim : {64, 128}) {
        RopeParams params;
        params.head_dim = head_dim;
        const auto table = RopeTable::build(params);
        const int64_t heads = 3;
        // Far positions: f32 angles would drift there (the kernels form them in double).
        const std::vector<int32_t> pos = {0, 1, 127, 4095, 4097, 32767, 65536, 131071};
        const int64_t n = int64_t(pos.size());
        auto x = test::random_vec(size_t(n * heads * head_dim), uint32_t(head_dim));
        auto want = x;
        OnDevice<float> dx(exec, x);
        OnDevice<int32_t> dpos(exec, pos);
        rope_apply(exec, dx.ptr(), dpos.ptr(), n, heads, table);
        ref::rope_apply(want.data(), pos.data(), n, heads, table);
        errs.push_back({fmt::format("n={} heads={} head_dim={}", n, heads, head_dim), test::rel_err(dx.host(), want)});
      }
      return errs;
    }}};

const BackendOpRegistration kAddInplace{BackendOp{
    "add_inplace", 0, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      for (int64_t n : {1, 1000, 100003}) {
        auto x = test::random_vec(size_t(n), 4), y = test::random_vec(size_t(n), 5);
        auto want = y;
        OnDevice<float> dx(exec, x), dy(exec, y);
        add_inplace(exec, dy.ptr(), dx.ptr(), n);
        ref::add_inplace(want.data(), x.data(), n);
        errs.push_back({fmt::format("n={}", n), test::rel_err(dy.host(), want)});
      }
      return errs;
    }}};

const BackendOpRegistration kAxpy{BackendOp{
    "axpy", 1e-7, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {  // an FMA may round once less
      std::vector<ShapeError> errs;
      for (int64_t n : {1, 1000, 100003}) {
        auto x = test::random_vec(size_t(n), 6), y = test::random_vec(size_t(n), 7);
        auto want = y;
        OnDevice<float> dx(exec, x), dy(exec, y);
        axpy(exec, dy.ptr(), -0.37f, dx.ptr(), n);
        ref::axpy(want.data(), -0.37f, x.data(), n);
        errs.push_back({fmt::format("n={}", n), test::rel_err(dy.host(), want)});
      }
      return errs;
    }}};

// Error: the fraction of rows whose token differs from the oracle's. The device kernel
// follows the oracle's definitions (kept set, draw in ascending id order), so only a
// draw within rounding of a boundary could differ: none of these does.
const BackendOpRegistration kSample{BackendOp{
    "sample_tokens", 0, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      const SamplingParams settings[] = {
          {0.f, 0, 1.f, 1},    {0.7f, 0, 1.f, 2},  {1.f, 40, 1.f, 3},  {0.8f, 0, 0.9f, 4},
          {1.3f, 50, 0.5f, 5}, {1.f, 1, 1.f, 6},   {0.6f, 0, 0.05f, 7},
      };
      for (int64_t vocab : {37, 1000, 201088}) {
        // stride > vocab: rows of a wider buffer. Fewer rows of the full vocabulary: the
        // oracle sorts it for every draw.
        const int64_t rows = vocab > 10000 ? 3 : 16, stride = vocab + 3;
        auto logits = test::random_vec(size_t(rows * stride), uint32_t(vocab), -6.f, 6.f);
        logits[5] = logits[9] = 50.f;  // a tie at the top of row 0: the lower id wins
        OnDevice<float> dlogits(exec, logits);
        for (const auto& setting : settings) {
          std::vector<SamplingParams> params(size_t(rows), setting);
          std::vector<uint64_t> steps(static_cast<size_t>(rows));
          for (int64_t i = 0; i < rows; ++i) steps[size_t(i)] = uint64_t(i * 31 + 7);
          std::vector<int32_t> got(static_cast<size_t>(rows));
          sample_tokens(exec, got.data(), dlogits.ptr(), rows, vocab, stride, params.data(), steps.data());
          int differ = 0;
          for (int64_t i = 0; i < rows; ++i)
            differ += got[size_t(i)] != ref::sample_token(logits.data() + i * stride, vocab, setting, steps[size_t(i)]);
          errs.push_back({fmt::format("vocab={} T={} top_k={} top_p={}", vocab, setting.temperature, setting.top_k,
                                      setting.top_p),
                          double(differ) / double(rows)});
        }
      }
      return errs;
    }}};

}  // namespace
}  // namespace gossamer::kernels
