// The GPU memory plan (worker/gpu_memory_plan.h): pure arithmetic, so it runs here. The
// expected figures are worked out by hand in each test from the inputs.
#include <gtest/gtest.h>

#include "core/error.h"
#include "worker/gpu_memory_plan.h"

namespace gossamer::worker {
namespace {

constexpr size_t kGiB = size_t{1} << 30;
constexpr size_t kMiB = size_t{1} << 20;

GpuMemoryInputs h200_like() {
  GpuMemoryInputs in;
  in.total_bytes = 100 * kGiB;
  in.free_bytes = 80 * kGiB;  // 20 GiB of weights and context
  in.fraction = 0.9;          // 90 GiB allowed
  in.workspace_bytes = 3 * kGiB;
  in.logits_bytes = 512 * kMiB;
  in.headroom_bytes = 512 * kMiB;  // 24 GiB taken in all: 66 GiB for the KV pools
  in.full_block_bytes = kMiB;
  in.window_block_bytes = 2 * kMiB;
  in.requested.block_size = 16;
  in.requested.full_blocks = 1000;
  in.requested.window_blocks = 512;  // 1 GiB
  in.requested.window = 128;
  return in;
}

TEST(GpuMemoryPlan, FullPoolTakesWhatIsLeftOfTheFraction) {
  const GpuMemoryPlan plan = plan_gpu_memory(h200_like());
  EXPECT_EQ(plan.used_before_bytes, 20 * kGiB);
  EXPECT_EQ(plan.kv_budget_bytes, 66 * kGiB);
  EXPECT_EQ(plan.pools.window_blocks, 512);           // kept as asked
  EXPECT_EQ(plan.pools.full_blocks, 65 * 1024);       // (66 GiB - 1 GiB window) / 1 MiB
  EXPECT_EQ(plan.pools.block_size, 16);
  EXPECT_EQ(plan.pools.window, 128);
  EXPECT_EQ(plan.kv_bytes(), 66 * kGiB);
  EXPECT_NE(plan.describe(h200_like()).find("66560 full-attention blocks"), std::string::npos)
      << plan.describe(h200_like());
}

TEST(GpuMemoryPlan, SmallerFractionSmallerPool) {
  GpuMemoryInputs in = h200_like();
  in.fraction = 0.5;  // 50 GiB allowed - 24 taken = 26 GiB, 1 of them for the window pool
  EXPECT_EQ(plan_gpu_memory(in).pools.full_blocks, 25 * 1024);
}

TEST(GpuMemoryPlan, GrowthStopsAtTheBlockCap) {
  GpuMemoryInputs in = h200_like();
  in.max_full_blocks = 4096;
  EXPECT_EQ(plan_gpu_memory(in).pools.full_blocks, 4096);
  in.max_full_blocks = 10;  // a cap below the request never shrinks it
  EXPECT_EQ(plan_gpu_memory(in).pools.full_blocks, 1000);
}

TEST(GpuMemoryPlan, WithoutGrowthThePoolsStayAsAsked) {
  GpuMemoryInputs in = h200_like();
  in.grow = false;
  const GpuMemoryPlan plan = plan_gpu_memory(in);
  EXPECT_EQ(plan.pools.full_blocks, 1000);
  EXPECT_EQ(plan.pools.window_blocks, 512);
  in.fraction = 0.25;  // still checked to fit
  EXPECT_THROW(plan_gpu_memory(in), Error);
}

TEST(GpuMemoryPlan, RequestThatDoesNotFitIsAClearError) {
  GpuMemoryInputs in = h200_like();
  in.fraction = 0.25;  // 25 GiB allowed < 24 GiB taken + 1000 MiB + 1 GiB
  try {
    plan_gpu_memory(in);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
    EXPECT_NE(std::string(e.what()).find("out of device memory"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("--gpu-memory-fraction"), std::string::npos) << e.what();
  }
}

TEST(GpuMemoryPlan, FractionOutsideZeroOneIsRejected) {
  GpuMemoryInputs in = h200_like();
  for (double f : {0.0, -0.5, 1.5}) {
    in.fraction = f;
    EXPECT_THROW(plan_gpu_memory(in), Error) << f;
  }
}

}  // namespace
}  // namespace gossamer::worker
