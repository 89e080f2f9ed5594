// Nothing is allocated inside a step: the workspace, the batch description and the
// sampling buffers are sized once, so after one pass of a workload the same shapes run
// again without a single operator new — 10 mixed prefill steps (prefill chunks beside
// decodes) and 100 decode steps with greedy, top-p and top-k sampling, on one rank with
// the thread pool running. Counting replaces the global operator new for this test binary
// (tests/common/step_allocations.h; the multi-rank layouts: tests/mpi/step_allocations.cpp).
#include <gtest/gtest.h>

#include "comm/communicator.h"
#include "tests/common/step_allocations.h"
#include "golden_data.h"
#include "worker/rank_executor.h"

namespace gossamer::worker {
namespace {

using testing::allocation_executor_options;
using testing::allocation_workload;
using testing::g_allocations;
using testing::g_counting_allocations;

TEST(StepAllocations, NoneInsideStepsOnceTheShapesHaveBeenSeen) {
  auto world = comm::make_local_communicator("world");
  RankExecutor executor(gossamer::testing::tiny_model_dir(), allocation_executor_options(2), *world);

  // The warm-up pass: every buffer grows to what these shapes need.
  auto warm = allocation_workload(0);
  for (auto& plan : warm) ASSERT_EQ(executor.run_step(&plan).sequences.size(), plan.sequences.size());

  // The same shapes on four other sequences, counted.
  auto counted = allocation_workload(4);
  int64_t prefill_steps = 0, decode_steps = 0, tokens = 0;
  g_allocations = 0;
  g_counting_allocations = true;
  for (auto& plan : counted) {
    const auto& result = executor.run_step(&plan);
    if (result.sequences.size() != plan.sequences.size()) break;
    for (const auto& s : plan.sequences) tokens += static_cast<int64_t>(s.token_ids.size());
    bool prefill = false;
    for (const auto& s : plan.sequences) prefill |= s.token_ids.size() > 1;
    ++(prefill ? prefill_steps : decode_steps);
  }
  g_counting_allocations = false;
  EXPECT_EQ(prefill_steps, 11);  // the starting prefill and the 10 mixed steps
  EXPECT_EQ(decode_steps, 100);
  EXPECT_GT(tokens, 500);
  EXPECT_EQ(g_allocations.load(), 0) << "operator new was called inside the steps";
}

// The counter itself works: the same loop with a fresh executor (nothing warmed) must see
// allocations, or a zero above would prove nothing.
TEST(StepAllocations, TheCounterSeesAllocationsOfAColdExecutor) {
  auto world = comm::make_local_communicator("world");
  RankExecutor executor(gossamer::testing::tiny_model_dir(), allocation_executor_options(2), *world);
  auto plans = allocation_workload(0);
  g_allocations = 0;
  g_counting_allocations = true;
  for (size_t i = 0; i < 3; ++i) executor.run_step(&plans[i]);
  g_counting_allocations = false;
  EXPECT_GT(g_allocations.load(), 0);
}

}  // namespace
}  // namespace gossamer::worker
