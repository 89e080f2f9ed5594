// CUDA kernels against the CPU ones. Skips cleanly when the backend is not built or no
// GPU is visible (the CPU-only CI path).
#include <gtest/gtest.h>

#include "core/buffer.h"
#include "kernels/elementwise.h"
#include "kernels/rmsnorm.h"
#include "kernels/rope.h"
#include "kernels/swiglu.h"
#include "test_util.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/device.h"
#endif

namespace gossamer::kernels {
namespace {
using test::exec3;
using test::rel_err;

TEST(Cuda, DeviceCountNeverThrows) { EXPECT_GE(cuda_device_count(), 0); }

#ifdef GOSSAMER_HAVE_CUDA
const Exec kGpu{Device::kCUDA, nullptr, nullptr};

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

class CudaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device";
  }
};

TEST_F(CudaTest, RmsNormMatchesCpu) {
  const int64_t n = 17, dim = 2880;
  auto x = test::random_vec(size_t(n * dim), 1, -3.f, 3.f);
  auto g = test::random_vec(size_t(dim), 2);
  std::vector<float> y(x.size());
  rmsnorm(exec3(), y.data(), x.data(), g.data(), n, dim, 1e-5f);
  DeviceVec<float> dx(x), dg(g), dy(std::vector<float>(x.size()));
  rmsnorm(kGpu, dy.ptr(), dx.ptr(), dg.ptr(), n, dim, 1e-5f);
  EXPECT_LT(rel_err(dy.host(), y), 1e-6);
}

TEST_F(CudaTest, SwigluMatchesCpu) {
  const int64_t n = 3, inter = 2880;
  auto gu = test::random_vec(size_t(n * 2 * inter), 3, -20.f, 20.f);
  std::vector<float> y(size_t(n * inter));
  swiglu_clamped(exec3(), y.data(), gu.data(), n, inter, 1.702f, 7.f);
  DeviceVec<float> dgu(gu), dy(y);
  swiglu_clamped(kGpu, dy.ptr(), dgu.ptr(), n, inter, 1.702f, 7.f);
  EXPECT_LT(rel_err(dy.host(), y), 1e-6);
}

TEST_F(CudaTest, AddAndAxpyMatchCpu) {
  auto x = test::random_vec(100003, 4), y0 = test::random_vec(100003, 5);
  auto y = y0;
  add_inplace(exec3(), y.data(), x.data(), int64_t(x.size()));
  axpy(exec3(), y.data(), 0.25f, x.data(), int64_t(x.size()));
  DeviceVec<float> dx(x), dy(y0);
  add_inplace(kGpu, dy.ptr(), dx.ptr(), int64_t(x.size()));
  axpy(kGpu, dy.ptr(), 0.25f, dx.ptr(), int64_t(x.size()));
  EXPECT_LT(rel_err(dy.host(), y), 1e-7);
}

TEST_F(CudaTest, RopeMatchesCpuFarPositions) {
  auto table = RopeTable::build(RopeParams{});
  const int64_t n = 6, heads = 8, d = 64;
  std::vector<int32_t> pos = {0, 1, 4097, 32767, 65536, 131071};
  auto x = test::random_vec(size_t(n * heads * d), 6);
  auto xc = x;
  rope_apply(exec3(), xc.data(), pos.data(), n, heads, table);
  DeviceVec<float> dx(x);
  DeviceVec<int32_t> dpos(pos);
  rope_apply(kGpu, dx.ptr(), dpos.ptr(), n, heads, table);
  EXPECT_LT(rel_err(dx.host(), xc), 1e-6);
}
#endif

}  // namespace
}  // namespace gossamer::kernels
