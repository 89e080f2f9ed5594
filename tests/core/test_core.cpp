// core/: bf16 rounding, shapes and views, the thread pool, .npy round trips, buffers.
#include <atomic>
#include <cmath>
#include <numeric>
#include <unistd.h>

#include <gtest/gtest.h>

#include "core/buffer.h"
#include "core/dtype.h"
#include "core/error.h"
#include "core/npy.h"
#include "core/tensor.h"
#include "core/thread_pool.h"

namespace gossamer {
namespace {

TEST(Bf16, RoundTripAndNearestEven) {
  for (float f : {0.0f, 1.0f, -2.5f, 3.140625f, 0.375f, 65536.0f})
    EXPECT_EQ(bf16_to_f32(f32_to_bf16(f)), f) << f;  // all exactly representable
  // 1 + 2^-8 lies halfway between bf16 neighbours 1 and 1 + 2^-7: ties go to even (1).
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f + std::ldexp(1.0f, -8))), 1.0f);
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.0f + 3 * std::ldexp(1.0f, -8))), 1.0f + std::ldexp(1.0f, -6));
  EXPECT_TRUE(std::isnan(bf16_to_f32(f32_to_bf16(NAN))));
}

TEST(Shape, NumelEqualityAndRows) {
  Shape s{2, 3, 4};
  EXPECT_EQ(s.numel(), 24);
  EXPECT_EQ(s.str(), "[2, 3, 4]");
  EXPECT_NE(s, (Shape{2, 3}));
  Tensor t(DType::kF32, Shape{4, 5});
  for (int i = 0; i < 20; ++i) t.as<float>()[i] = static_cast<float>(i);
  auto row = t.view().row(2);
  EXPECT_EQ(row.shape, (Shape{5}));
  EXPECT_EQ(row.as<float>()[0], 10.0f);
  EXPECT_THROW(t.view().row(4), Error);
}

TEST(Buffer, AlignedZeroedAndCudaRefusedWithoutBackend) {
  Buffer b(100);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(b.data()) % 64, 0u);
  for (size_t i = 0; i < 100; ++i) EXPECT_EQ(b.as<uint8_t>()[i], 0);
  Buffer moved = std::move(b);
  EXPECT_EQ(b.data(), nullptr);
  EXPECT_NE(moved.data(), nullptr);
}

TEST(ThreadPool, CoversEveryIndexOnceAndNestsSafely) {
  ThreadPool pool(3);
  for (int64_t n : {1, 7, 1000, 100003}) {
    std::vector<std::atomic<int>> hits(static_cast<size_t>(n));
    pool.parallel_for(n, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) hits[static_cast<size_t>(i)]++;
    });
    for (auto& h : hits) ASSERT_EQ(h.load(), 1);
  }
  std::atomic<int64_t> total{0};
  pool.parallel_for(8, 1, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      pool.parallel_for(10, 1, [&](int64_t b2, int64_t e2) { total += e2 - b2; });
  });
  EXPECT_EQ(total.load(), 80);
}

TEST(Npy, RoundTrip) {
  std::string path = "/tmp/gossamer-core-test-" + std::to_string(::getpid()) + ".npy";
  std::vector<float> data(12);
  std::iota(data.begin(), data.end(), -3.0f);
  write_npy_f32(path, data.data(), {3, 4});
  auto back = read_npy_f32(path);
  EXPECT_EQ(back.shape, (std::vector<int64_t>{3, 4}));
  EXPECT_EQ(back.data, data);
  EXPECT_THROW(read_npy_f32("/nonexistent.npy"), Error);
  std::remove(path.c_str());
}

}  // namespace
}  // namespace gossamer
