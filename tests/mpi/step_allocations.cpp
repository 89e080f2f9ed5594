// Run under mpirun -np 2: nothing is allocated inside a step on any rank of a split layout
// either. For each layout (tp=2; tp=2,ep=2 and dp=2,ep=2 with both MoE dispatches; pp=2)
// every rank runs the first 12 steps of the workload of tests/common/step_allocations.h to
// warm up (every buffer grows to those shapes), then the whole workload on other sequences
// while operator new is counted: 111 steps (the starting prefill, 10 mixed prefill steps,
// 100 decode steps), greedy, top-p and top-k sampling. Rank 0 plans and broadcasts the
// steps, the others follow. Every rank's count of the counted pass must be 0, and of the
// warm-up pass above 0 (the counter works on that rank). Prints "N passed, M failed";
// exits non-zero on any failure or when no check ran (tests/expect_pass.sh also wants
// every rank to exit 0).
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "comm/mpi_runtime.h"
#include "core/log.h"
#include "tests/common/step_allocations.h"
#include "worker/runtime_config.h"

namespace gossamer {
namespace {

struct AllocationTally {
  int passed = 0, failed = 0;
  void check(bool ok, const std::string& what) {
    if (ok) {
      ++passed;
    } else {
      ++failed;
      std::fprintf(stderr, "FAILED: %s\n", what.c_str());
    }
  }
};

struct AllocationLayout {
  const char* parallel;
  worker::MoeDispatch dispatch;
};

// Runs the workload on `world` in one layout; rank 0 records the checks.
void check_layout(comm::Communicator& world, const AllocationLayout& layout, AllocationTally& t) {
  using testing::g_allocations;
  using testing::g_counting_allocations;
  worker::ExecutorOptions o = testing::allocation_executor_options(1);
  o.parallel = worker::parse_parallel(layout.parallel);
  o.dispatch = layout.dispatch;
  const std::string name = fmt::format("{} {}", layout.parallel, worker::moe_dispatch_name(layout.dispatch));
  worker::RankExecutor executor(std::string(GOSSAMER_TEST_DATA) + "/tiny/model", o, world);
  const bool root = world.rank() == 0;
  // The warm-up needs each shape once, not the whole workload: the starting prefill, the
  // 10 mixed steps and one decode step (the counted pass then also checks that nothing
  // grows with the sequences' length). Half the steps keep this ctest entry short.
  auto warm = testing::allocation_workload(0);
  warm.resize(12);
  auto counted = testing::allocation_workload(4);
  worker::StepPlan received;  // followers: one plan for every step (the broadcast reuses it)

  // Each pass runs the same number of steps on every rank; only rank 0's plans are read.
  auto run = [&](std::vector<worker::StepPlan>& plans, int64_t* short_results) {
    for (auto& plan : plans) {
      const auto& result = executor.run_step(root ? &plan : &received);
      if (root && result.sequences.size() != plan.sequences.size()) ++*short_results;
    }
  };
  int64_t short_results = 0;
  g_allocations = 0;
  g_counting_allocations = true;
  run(warm, &short_results);
  g_counting_allocations = false;
  const int64_t warm_allocations = g_allocations.load();

  g_allocations = 0;
  g_counting_allocations = true;
  run(counted, &short_results);
  g_counting_allocations = false;
  const int64_t counted_allocations = g_allocations.load();

  // Every rank's two counts to rank 0 (after counting stopped).
  const int64_t mine[2] = {warm_allocations, counted_allocations};
  std::vector<int64_t> all(2 * static_cast<size_t>(world.size()));
  world.all_gather(mine, 2, all.data(), DType::kI64, Device::kCPU);
  if (!root) return;
  t.check(short_results == 0, fmt::format("{}: {} steps returned too few results", name, short_results));
  for (int r = 0; r < world.size(); ++r) {
    const int64_t w = all[2 * static_cast<size_t>(r)], c = all[2 * static_cast<size_t>(r) + 1];
    t.check(w > 0, fmt::format("{}: rank {} counted no allocation in the warm-up pass (is the counter on?)", name, r));
    t.check(c == 0, fmt::format("{}: rank {}: {} operator new calls inside {} steps", name, r, c, counted.size()));
    std::printf("%s: rank %d: %lld allocations warming up, %lld inside %zu counted steps\n", name.c_str(), r,
                static_cast<long long>(w), static_cast<long long>(c), counted.size());
  }
}

int run(int argc, char** argv) {
  comm::MpiRuntime mpi(&argc, &argv);
  configure_logging("warn", mpi.world_rank());
  auto world = mpi.world(std::chrono::seconds(120));
  const AllocationLayout layouts[] = {
      {"tp=2", worker::MoeDispatch::kAllGather},
      {"tp=2,ep=2", worker::MoeDispatch::kAllGather},
      {"tp=2,ep=2", worker::MoeDispatch::kAllToAll},
      {"dp=2,ep=2", worker::MoeDispatch::kAllGather},
      {"dp=2,ep=2", worker::MoeDispatch::kAllToAll},
      {"pp=2", worker::MoeDispatch::kAllGather},
  };
  AllocationTally t;
  for (const auto& layout : layouts) check_layout(*world, layout, t);
  if (world->rank() != 0) return 0;
  std::printf("%d passed, %d failed\n", t.passed, t.failed);
  if (t.passed == 0) std::fprintf(stderr, "FAILED: no check ran\n");
  return t.failed == 0 && t.passed > 0 ? 0 : 1;
}

}  // namespace
}  // namespace gossamer

int main(int argc, char** argv) {
  try {
    return gossamer::run(argc, argv);
  } catch (const std::exception& e) {
    gossamer::comm::MpiRuntime::abort(std::string("test_step_allocations_mpi: ") + e.what(), 2);
  }
}
