// test_comm_mpi: the MPI backend under a real mpirun.
//
//   mpirun -np 4 --oversubscribe test_comm_mpi collectives   every collective, groups, plans
//   mpirun -np 2 --oversubscribe test_comm_mpi exit-early    rank 1 _exit(3)s before a collective
//   mpirun -np 2 --oversubscribe test_comm_mpi crash         rank 1 SIGKILLs itself mid-run
//   mpirun -np 4 --oversubscribe test_comm_mpi stall         rank 3 never enters a TP all-reduce
//   mpirun -np 2 test_comm_mpi latency                       µs per collective (not a test)
//   mpirun -np 2 test_comm_mpi device-staged                 device buffers staged through host (any GPUs)
//   mpirun -np 2 test_comm_mpi device-nccl                   device buffers over NCCL (one GPU per rank)
//
// `collectives` exits 0 when every check on every rank passed and prints a summary on rank
// 0. The failure modes are expected to end the job non-zero within a bounded time with a
// message naming the operation or the dead rank; tests/comm/mpi/expect_failure.sh checks
// exit code, elapsed time and output.
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "comm/mpi_runtime.h"
#include "comm/process_groups.h"
#include "comm_mpi_check.h"
#include "core/error.h"
#include "worker/mapping.h"
#include "worker/step_plan.h"

namespace gossamer::comm::test {

void check_collectives(Communicator& c, Checker& t);
int run_device_collectives(std::unique_ptr<Communicator> world, const std::string& backend);

namespace {

using std::chrono::milliseconds;

// The layout used for group tests at each world size (tiny model dims).
worker::ParallelConfig layout_for(int world) {
  if (world == 4) return {.tp = 2, .dp = 2, .ep = 4, .pp = 1};
  if (world == 2) return {.tp = 2, .dp = 1, .ep = 2, .pp = 1};
  return {.tp = 1, .dp = world, .ep = 1, .pp = 1};
}
const worker::ModelDims kTiny{4, 16, 4, 8, 4096};

void check_groups(Communicator& world, Checker& t) {
  const worker::Mapping m(world.size(), world.rank(), layout_for(world.size()), kTiny);
  ProcessGroups g = worker::make_process_groups(world, m);
  const auto& p = m.parallel();
  t.expect(g.tp->size() == p.tp && g.tp->rank() == m.tp_rank(), "tp group size and rank");
  t.expect(g.dp->size() == p.dp && g.dp->rank() == m.dp_rank(), "dp group size and rank");
  t.expect(g.pp->size() == p.pp && g.pp->rank() == m.pp_rank(), "pp group size and rank");
  t.expect(g.ep->size() == p.ep && g.ep->rank() == m.ep_rank(), "ep group size and rank");
  t.expect(std::string(g.pp->backend()) == "local", "a group of one is local");
  t.expect(g.tp->name() == "tp", "groups are named");

  // A TP all-reduce sums exactly the world ranks of this TP group.
  float x = static_cast<float>(world.rank());
  g.tp->all_reduce_sum(&x, 1, Device::kCPU);
  float want = 0;
  for (int tp = 0; tp < p.tp; ++tp)
    want += static_cast<float>(m.world_rank_of(m.dp_rank(), m.pp_rank(), tp));
  t.expect(x == want, fmt::format("tp all_reduce sums the tp group ({} vs {})", x, want));

  // A DP all-gather collects this TP slice's world rank from every replica, in dp order.
  std::vector<int32_t> ranks(p.dp, -1);
  const int32_t me = world.rank();
  g.dp->all_gather(&me, 1, ranks.data(), DType::kI32, Device::kCPU);
  bool ok = true;
  for (int d = 0; d < p.dp; ++d) ok = ok && ranks[d] == m.world_rank_of(d, m.pp_rank(), m.tp_rank());
  t.expect(ok, "dp all_gather orders replicas by dp rank");

  // The full collective set on the EP group, the one dispatch uses.
  check_collectives(*g.ep, t);

  // kNoGroup: odd ranks stay out of the new group.
  auto evens = world.split(world.rank() % 2 == 0 ? 0 : kNoGroup, world.rank(), "evens");
  t.expect((evens != nullptr) == (world.rank() % 2 == 0), "split with kNoGroup gives nullptr");
}

void check_step_plan(Communicator& world, Checker& t) {
  worker::StepPlan want;
  want.step = 41;
  worker::SequencePlan s;
  s.seq_id = 3;
  s.start_pos = 17;
  s.token_ids = {1, 2, 3};
  s.block_table = {5, 6};
  s.sampling = {0.5f, 10, 0.9f, 99};
  want.sequences = {s, s};
  want.sequences[1].seq_id = 4;
  worker::StepPlan got;
  if (world.rank() == 0) got = want;
  worker::broadcast_step_plan(world, &got, 0);
  t.expect(got == want, "broadcast_step_plan delivers rank 0's plan");
}

int run_collectives(Communicator& world) {
  Checker t(world.rank());
  try {
    check_collectives(world, t);
    // The same with no deadline: the blocking MPI calls.
    const auto deadline = world.timeout();
    world.set_timeout(milliseconds(0));
    check_collectives(world, t);
    world.set_timeout(deadline);
    check_groups(world, t);
    check_step_plan(world, t);
  } catch (const std::exception& e) {
    t.expect(false, fmt::format("threw: {}", e.what()));
  }
  int totals[2] = {t.checks(), t.failures()};
  try {
    world.all_reduce(totals, 2, DType::kI32, ReduceOp::kSum, Device::kCPU);
  } catch (const std::exception& e) {
    fmt::print(stderr, "rank {}: cannot agree on the result: {}\n", world.rank(), e.what());
    return 1;
  }
  if (world.rank() == 0)
    fmt::print("test_comm_mpi collectives: {} ranks ({} backend), {} checks, {} failed: {}\n",
               world.size(), world.backend(), totals[0], totals[1],
               totals[1] == 0 && totals[0] > 0 ? "PASSED" : "FAILED");
  return totals[1] == 0 && totals[0] > 0 ? 0 : 1;  // no check at all is a failure too
}

// A peer leaves; the survivors must not hang. Either our deadline fires (kComm naming the
// operation, then the app aborts the job) or Open MPI notices the dead process and kills
// the job; both end the run in bounded time.
int run_failure(Communicator& world, const std::string& mode) {
  float x = 1;
  world.all_reduce_sum(&x, 1, Device::kCPU);  // everyone alive here
  if (mode == "exit-early" && world.rank() == 1) {
    std::fprintf(stderr, "rank 1: exiting with status 3 before the next collective\n");
    std::fflush(stderr);
    _exit(3);
  }
  if (mode == "crash" && world.rank() == 1) {
    std::fprintf(stderr, "rank 1: crashing (SIGKILL) mid-run\n");
    std::fflush(stderr);
    raise(SIGKILL);
  }
  Communicator* group = &world;
  std::unique_ptr<Communicator> tp;
  if (mode == "stall") {
    // Rank 3 skips the TP all-reduce of its group {2, 3}: rank 2 must time out naming 'tp'.
    const worker::Mapping m(world.size(), world.rank(), layout_for(world.size()), kTiny);
    tp = std::move(make_process_groups(world, m.group_layout()).tp);
    group = tp.get();
    // The world barrier after it waits longer, so the first deadline to fire is rank 2's.
    world.set_timeout(std::chrono::seconds(20));
    if (world.rank() == world.size() - 1) {
      std::this_thread::sleep_for(std::chrono::seconds(30));
      return 0;
    }
  }
  try {
    for (int i = 0; i < 3; ++i) group->all_reduce_sum(&x, 1, Device::kCPU);
    world.barrier();
  } catch (const Error& e) {
    MpiRuntime::abort(fmt::format("{} error: {}", error_code_name(e.code()), e.what()), 4);
  }
  std::fprintf(stderr, "rank %d: unexpectedly completed the %s run\n", world.rank(), mode.c_str());
  return 0;
}

// Median microseconds per call of the collectives a decode / prefill step makes, sized
// for gpt-oss (hidden 2880 f32). Informational: the figures feed docs/PERFORMANCE.md.
int run_latency(Communicator& world) {
  auto time_us = [&](auto fn) {
    std::vector<double> us;
    for (int i = 0; i < 50; ++i) {
      world.barrier();
      const auto t0 = std::chrono::steady_clock::now();
      fn();
      us.push_back(std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(us.begin(), us.end());
    return us[us.size() / 2];
  };
  const size_t H = 2880;
  std::vector<float> buf(H * 512, 1.0f), big(H * 512 * static_cast<size_t>(world.size()));
  struct Row { const char* what; double us; };
  std::vector<Row> rows = {
      {"barrier", time_us([&] { world.barrier(); })},
      {"all_reduce 1 token (11 KiB)", time_us([&] { world.all_reduce_sum(buf.data(), H, Device::kCPU); })},
      {"all_reduce 64 tokens (720 KiB)", time_us([&] { world.all_reduce_sum(buf.data(), 64 * H, Device::kCPU); })},
      {"all_reduce 512 tokens (5.6 MiB)", time_us([&] { world.all_reduce_sum(buf.data(), 512 * H, Device::kCPU); })},
      {"all_gather 64 tokens per rank", time_us([&] { world.all_gather(buf.data(), 64 * H, big.data(), DType::kF32, Device::kCPU); })},
  };
  if (world.rank() == 0) {
    fmt::print("collective latency on {} ranks ({} backend, timeout {} ms), median of 50:\n",
               world.size(), world.backend(), world.timeout().count());
    for (const auto& r : rows) fmt::print("  {:<34} {:>10.1f} us\n", r.what, r.us);
  }
  return 0;
}

}  // namespace
}  // namespace gossamer::comm::test

int main(int argc, char** argv) {
  using namespace gossamer;
  comm::MpiRuntime mpi(&argc, &argv);
  const std::string mode = argc > 1 ? argv[1] : "collectives";
  // Short deadlines: a healthy collective here takes milliseconds even oversubscribed.
  const auto timeout = std::chrono::milliseconds(mode == "collectives" ? 20000 : 3000);
  auto world = mpi.world(timeout);
  if (mode == "collectives") return comm::test::run_collectives(*world);
  if (mode == "device-staged") return comm::test::run_device_collectives(std::move(world), "staged");
  if (mode == "device-nccl") return comm::test::run_device_collectives(std::move(world), "nccl");
  if (mode == "latency") {
    comm::test::run_latency(*world);  // non-blocking calls polled against a deadline
    world->set_timeout(std::chrono::milliseconds(0));
    return comm::test::run_latency(*world);  // blocking calls
  }
  if (mode == "exit-early" || mode == "crash" || mode == "stall") {
    if (world->size() < 2) {
      std::fprintf(stderr, "%s needs at least 2 ranks\n", mode.c_str());
      return 2;
    }
    if (mode == "stall" && world->size() != 4) {
      std::fprintf(stderr, "stall needs 4 ranks\n");
      return 2;
    }
    return comm::test::run_failure(*world, mode);
  }
  std::fprintf(stderr, "unknown mode %s\n", mode.c_str());
  return 2;
}
