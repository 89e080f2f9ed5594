// CUDA checks beyond the backend-ops table (test_backend_ops.cpp runs every op against
// its kernels/ref oracle): in-place aliasing, the device-memory helper
// (kernels/cuda/memory.h), the embedding's out-of-range ids. Where no GPU is visible every
// CUDA test skips and says why (ctest: "Skipped", not "Passed"). A build without the CUDA
// backend instead checks what such a build promises: every kernel asked to run on
// Device::kCUDA throws kUnsupported naming itself.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/exec.h"
#include "kernels/grouped_mxfp4.h"
#include "kernels/linear.h"
#include "kernels/moe_combine.h"
#include "kernels/moe_permute.h"
#include "kernels/mxfp4_linear.h"
#include "kernels/router.h"
#include "kernels/sampling.h"
#include "kernels/ref/elementwise.h"
#include "kernels/ref/rmsnorm.h"
#include "kernels/ref/rope.h"
#include "kernels/ref/swiglu.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/swiglu.h"
#include "test_util.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "core/buffer.h"
#include "kernels/cuda/device.h"
#include "kernels/cuda/memory.h"
#endif

namespace gossamer::kernels {
namespace {
using test::rel_err;

const Exec kGpu{Device::kCUDA, nullptr, nullptr};

#ifdef GOSSAMER_HAVE_CUDA

// A device copy of a host vector, and back.
template <typename T>
struct DeviceVec {
  Buffer buf;
  size_t n;
  explicit DeviceVec(const std::vector<T>& h) : buf(h.size() * sizeof(T), Device::kCUDA), n(h.size()) {
    cuda::copy_to_device(buf.data(), h.data(), n * sizeof(T));
  }
  T* ptr() { return buf.as<T>(); }
  std::vector<T> host() {
    cuda::synchronize(nullptr);
    std::vector<T> h(n);
    cuda::copy_to_host(h.data(), buf.data(), n * sizeof(T));
    return h;
  }
};

class CudaKernels : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0)
      GTEST_SKIP() << "no CUDA device visible (cuda_device_count() == 0): the CUDA kernels are "
                      "compiled in this build but can only be checked on a GPU";
  }
};

TEST_F(CudaKernels, RmsNormMatchesReference) {
  for (int64_t n : {1, 17})
    for (int64_t dim : {7, 64, 1001, 2880}) {
      auto x = test::random_vec(size_t(n * dim), uint32_t(n * 31 + dim), -3.f, 3.f);
      auto g = test::random_vec(size_t(dim), 2, 0.5f, 1.5f);
      std::vector<float> want(x.size());
      ref::rmsnorm(want.data(), x.data(), g.data(), n, dim, 1e-5f);
      DeviceVec<float> dx(x), dg(g), dy(std::vector<float>(x.size()));
      rmsnorm(kGpu, dy.ptr(), dx.ptr(), dg.ptr(), n, dim, 1e-5f);
      EXPECT_LT(rel_err(dy.host(), want), 1e-6) << "n=" << n << " dim=" << dim;
      // In place (y aliases x), as the worker calls it.
      rmsnorm(kGpu, dx.ptr(), dx.ptr(), dg.ptr(), n, dim, 1e-5f);
      EXPECT_LT(rel_err(dx.host(), want), 1e-6) << "in place, n=" << n << " dim=" << dim;
    }
}

TEST_F(CudaKernels, SwigluMatchesReferenceInsideAndBeyondTheClamp) {
  for (int64_t n : {1, 3})
    for (int64_t inter : {5, 2880}) {
      // [-20, 20] puts many gate/up values beyond the +-7 clamp.
      auto gu = test::random_vec(size_t(n * 2 * inter), uint32_t(n + inter), -20.f, 20.f);
      std::vector<float> want(size_t(n * inter));
      ref::swiglu_clamped(want.data(), gu.data(), n, inter, 1.702f, 7.f);
      DeviceVec<float> dgu(gu), dy(std::vector<float>(want.size()));
      swiglu_clamped(kGpu, dy.ptr(), dgu.ptr(), n, inter, 1.702f, 7.f);
      EXPECT_LT(rel_err(dy.host(), want), 1e-6) << n << "x" << inter;
    }
}

TEST_F(CudaKernels, AddAndAxpyMatchReference) {
  for (int64_t n : {1, 1000, 100003}) {
    auto x = test::random_vec(size_t(n), 4), y0 = test::random_vec(size_t(n), 5);
    auto want = y0;
    ref::add_inplace(want.data(), x.data(), n);
    ref::axpy(want.data(), -0.37f, x.data(), n);
    DeviceVec<float> dx(x), dy(y0);
    add_inplace(kGpu, dy.ptr(), dx.ptr(), n);
    axpy(kGpu, dy.ptr(), -0.37f, dx.ptr(), n);
    EXPECT_LT(rel_err(dy.host(), want), 1e-7) << "n=" << n;  // FMA may differ by an ulp
  }
}

TEST_F(CudaKernels, RopeMatchesReferenceAtFarPositions) {
  for (int head_dim : {64, 128}) {
    RopeParams params;
    params.head_dim = head_dim;
    const auto table = RopeTable::build(params);
    const int64_t n = 8, heads = 3;
    const std::vector<int32_t> pos = {0, 1, 127, 4095, 4097, 32767, 65536, 131071};
    auto x = test::random_vec(size_t(n * heads * head_dim), uint32_t(head_dim));
    auto want = x;
    ref::rope_apply(want.data(), pos.data(), n, heads, table);
    DeviceVec<float> dx(x);
    DeviceVec<int32_t> dpos(pos);
    rope_apply(kGpu, dx.ptr(), dpos.ptr(), n, heads, table);
    EXPECT_LT(rel_err(dx.host(), want), 1e-6) << "head_dim=" << head_dim;
  }
}

TEST_F(CudaKernels, MemoryHelperRoundTripsThroughPinnedAndDeviceBuffers) {
  const size_t n = 1 << 20;
  const auto src = test::random_vec(n, 11);
  cuda::PinnedBuffer pinned(n * sizeof(float));
  std::copy(src.begin(), src.end(), static_cast<float*>(pinned.data()));
  cuda::DeviceBuffer a(n * sizeof(float)), b(n * sizeof(float));
  void* stream = cuda::stream_create();
  cuda::copy_h2d_async(a.data(), pinned.data(), n * sizeof(float), stream);
  cuda::copy_d2d_async(b.data(), a.data(), n * sizeof(float), stream);
  cuda::memset_async(a.data(), 0, n * sizeof(float), stream);
  std::vector<float> back(n, 1.f), zeros(n, 1.f);
  cuda::copy_d2h_async(back.data(), b.data(), n * sizeof(float), stream);
  cuda::copy_d2h_async(zeros.data(), a.data(), n * sizeof(float), stream);
  cuda::synchronize(stream);
  cuda::stream_destroy(stream);
  EXPECT_EQ(back, src);
  EXPECT_EQ(zeros, std::vector<float>(n, 0.f));
  const auto info = cuda::memory_info();
  EXPECT_GT(info.total_bytes, 0u);
  EXPECT_LE(info.free_bytes, info.total_bytes);
  EXPECT_GT(std::string(cuda::device_name()).size(), 0u);
}

TEST_F(CudaKernels, EmbeddingIdOutsideTheTableGivesNaNRow) {
  const int64_t rows = 4, dim = 8;
  auto table = test::random_vec(size_t(rows * dim), 12);
  DeviceVec<float> dtable(table), dout(std::vector<float>(size_t(2 * dim)));
  DeviceVec<int32_t> ids(std::vector<int32_t>{2, 4});
  embedding_lookup(kGpu, dout.ptr(), DenseWeight{dtable.ptr(), DType::kF32, rows, dim, 0}, ids.ptr(), 2);
  const auto out = dout.host();
  for (int64_t c = 0; c < dim; ++c) {
    EXPECT_EQ(out[size_t(c)], table[size_t(2 * dim + c)]);
    EXPECT_TRUE(std::isnan(out[size_t(dim + c)])) << c;
  }
}

// One GPU per rank: more local ranks than GPUs is an error naming both counts, unless
// the GPUs may be shared (the staged communicator); the GPU is local rank % GPUs.
TEST_F(CudaKernels, GpuSelectionByLocalRank) {
  const int gpus = cuda_device_count();
  const std::string size = std::to_string(gpus + 1), last = std::to_string(gpus);
  setenv("OMPI_COMM_WORLD_LOCAL_RANK", last.c_str(), 1);
  setenv("OMPI_COMM_WORLD_LOCAL_SIZE", size.c_str(), 1);
  try {
    cuda::select_gpu_for_local_rank();
    ADD_FAILURE() << "local rank " << gpus << " of " << gpus + 1 << " got one of " << gpus << " GPUs";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find("runs " + size + " ranks"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cuda::select_gpu_for_local_rank(/*share_gpus=*/true), gpus % gpus);
  EXPECT_EQ(cuda::current_device(), 0);
  unsetenv("OMPI_COMM_WORLD_LOCAL_RANK");
  unsetenv("OMPI_COMM_WORLD_LOCAL_SIZE");
  EXPECT_EQ(cuda::select_gpu_for_local_rank(), 0);
}

// A CUDA build on a machine without a GPU: selecting one is a clear error, not a crash.
TEST(CudaBackendWithoutGpu, SelectingAGpuSaysNoneIsVisible) {
  if (cuda_device_count() > 0) GTEST_SKIP() << "a GPU is visible: this checks the machine without one";
  try {
    cuda::select_gpu_for_local_rank();
    ADD_FAILURE() << "selected a GPU on a machine without one";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInternal) << e.what();
    EXPECT_NE(std::string(e.what()).find("no CUDA GPU is visible"), std::string::npos) << e.what();
  }
}

#else  // no CUDA backend in this build

// Host pointers are fine here: the dispatch must throw before touching them.
void expect_unsupported(const std::string& op, const std::function<void()>& call) {
  try {
    call();
    ADD_FAILURE() << op << " on Device::kCUDA did not throw in a build without CUDA";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported) << e.what();
    EXPECT_NE(std::string(e.what()).find("'" + op + "'"), std::string::npos) << e.what();
  }
}

TEST(CudaBackendAbsent, NoDeviceIsCounted) { EXPECT_EQ(cuda_device_count(), 0); }

TEST(CudaBackendAbsent, EveryKernelOnCudaThrowsUnsupportedNamingItself) {
  std::vector<float> x(64, 1.f), y(64), g(64, 1.f);
  std::vector<int32_t> pos(1, 0);
  const auto table = RopeTable::build(RopeParams{});
  expect_unsupported("rmsnorm", [&] { rmsnorm(kGpu, y.data(), x.data(), g.data(), 1, 64, 1e-5f); });
  expect_unsupported("swiglu_clamped",
                     [&] { swiglu_clamped(kGpu, y.data(), x.data(), 1, 32, 1.702f, 7.f); });
  expect_unsupported("add_inplace", [&] { add_inplace(kGpu, y.data(), x.data(), 64); });
  expect_unsupported("axpy", [&] { axpy(kGpu, y.data(), 0.5f, x.data(), 64); });
  expect_unsupported("rope_apply", [&] { rope_apply(kGpu, x.data(), pos.data(), 1, 1, table); });
  std::vector<uint16_t> w(64 * 64);
  const DenseWeight dense{w.data(), DType::kBF16, 64, 64, 0};
  expect_unsupported("linear", [&] { linear(kGpu, y.data(), x.data(), 1, dense, nullptr); });
  expect_unsupported("embedding_lookup", [&] { embedding_lookup(kGpu, y.data(), dense, pos.data(), 1); });
  std::vector<int32_t> experts(4, 0);
  std::vector<float> weights(4);
  expect_unsupported("router_topk_softmax",
                     [&] { router_topk_softmax(kGpu, x.data(), 1, 8, 4, experts.data(), weights.data()); });
  std::vector<int64_t> offsets(2, 0);
  std::vector<int32_t> rows(4);
  expect_unsupported("moe_permute", [&] {
    moe_permute(kGpu, experts.data(), 1, 4, ExpertRange{0, 1}, MoePermutation{offsets.data(), rows.data()});
  });
  expect_unsupported("moe_combine",
                     [&] { moe_combine(kGpu, y.data(), x.data(), rows.data(), weights.data(), 1, 4, 8); });
  expect_unsupported("moe_unpermute", [&] { moe_unpermute(kGpu, y.data(), x.data(), rows.data(), 4, 8); });
  std::vector<uint8_t> blocks(64 * 2 * 16), scales(64 * 2);
  const Mxfp4Weight mx{blocks.data(), scales.data(), 64, 64, 0};
  expect_unsupported("mxfp4_linear", [&] { mxfp4_linear(kGpu, y.data(), x.data(), 1, mx, nullptr); });
  const ExpertGroups groups{offsets.data(), 1, nullptr};
  expect_unsupported("grouped_mxfp4_linear",
                     [&] { grouped_mxfp4_linear(kGpu, y.data(), x.data(), groups, &mx, nullptr); });
  expect_unsupported("grouped_mxfp4_swiglu",
                     [&] { grouped_mxfp4_swiglu(kGpu, y.data(), x.data(), groups, &mx, nullptr, 1.702f, 7.f); });
  const PagedKv kv{x.data(), y.data(), DType::kF32, 1, 16};
  const VarlenBatch batch{1, 1, pos.data(), rows.data(), rows.data(), rows.data()};
  const AttentionShape shape{1, 1, 64, 0, 0.125f};
  expect_unsupported("kv_cache_write_varlen", [&] { kv_cache_write_varlen(kGpu, kv, x.data(), x.data(), batch, shape); });
  expect_unsupported("attention_varlen", [&] { attention_varlen(kGpu, y.data(), x.data(), kv, batch, g.data(), shape); });
  const SamplingParams params;
  const uint64_t step = 0;
  int32_t token = 0;
  expect_unsupported("sample_tokens", [&] { sample_tokens(kGpu, &token, x.data(), 1, 64, 64, &params, &step); });
}

#endif

}  // namespace
}  // namespace gossamer::kernels
