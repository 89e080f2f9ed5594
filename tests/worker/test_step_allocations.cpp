// Nothing is allocated inside a step: the workspace, the batch description and the
// sampling buffers are sized once, so after one pass of a workload the same shapes run
// again without a single operator new — 10 mixed prefill steps (prefill chunks beside
// decodes) and 100 decode steps with greedy, top-p and top-k sampling, on one rank with
// the thread pool running. Counting replaces the global operator new for this test binary.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

#include "comm/communicator.h"
#include "golden_data.h"
#include "worker/rank_executor.h"

namespace {

std::atomic<bool> g_counting{false};
std::atomic<int64_t> g_allocations{0};

void* counted_alloc(std::size_t n, std::size_t align) {
  if (g_counting.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace

void* operator new(std::size_t n) { return counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void* operator new[](std::size_t n, std::align_val_t a) { return counted_alloc(n, static_cast<std::size_t>(a)); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace gossamer::worker {
namespace {

constexpr int kBlockSize = 16;
constexpr int kBlocksPerSequence = 10;  // 160 positions: more than the workload reaches

struct Sequence {
  int64_t id;
  int64_t length = 0;
  std::vector<int32_t> table;
  SamplingParams sampling;
};

Sequence make_sequence(int64_t id, SamplingParams sampling) {
  Sequence s{id, 0, {}, sampling};
  for (int b = 0; b < kBlocksPerSequence; ++b) s.table.push_back(static_cast<int32_t>(id * kBlocksPerSequence + b));
  return s;
}

// Feeds `count` tokens of `s` in `plan` (full and window tables alike: own blocks).
void feed(StepPlan& plan, Sequence& s, int count) {
  SequencePlan sp;
  sp.seq_id = s.id;
  sp.start_pos = s.length;
  for (int i = 0; i < count; ++i) sp.token_ids.push_back(static_cast<int32_t>((s.length + i) * 37 % 4000 + 3));
  sp.block_table = s.table;
  sp.window_block_table = s.table;
  sp.sampling = s.sampling;
  sp.is_prefill = count > 1;
  plan.sequences.push_back(std::move(sp));
  s.length += count;
}

// The workload on four fresh sequences: one mixed prefill to start, 10 steps of a chunked
// prefill beside three decodes, then 100 decode steps. Plans are built up front, so
// building them is not part of any step.
std::vector<StepPlan> workload(int64_t first_id) {
  SamplingParams greedy, nucleus, topk;
  nucleus.temperature = 0.8f;
  nucleus.top_p = 0.9f;
  nucleus.seed = 7;
  topk.temperature = 1.0f;
  topk.top_k = 5;
  topk.seed = 9;
  std::vector<Sequence> s = {make_sequence(first_id, greedy), make_sequence(first_id + 1, nucleus),
                             make_sequence(first_id + 2, greedy), make_sequence(first_id + 3, topk)};
  std::vector<StepPlan> plans;
  StepPlan start;
  feed(start, s[0], 20);
  feed(start, s[1], 30);
  feed(start, s[3], 5);
  plans.push_back(std::move(start));
  for (int i = 0; i < 10; ++i) {
    StepPlan p;
    feed(p, s[0], 1);
    feed(p, s[1], 1);
    feed(p, s[2], 5);  // a prompt arriving in chunks
    feed(p, s[3], 1);
    plans.push_back(std::move(p));
  }
  for (int i = 0; i < 100; ++i) {
    StepPlan p;
    for (auto& seq : s) feed(p, seq, 1);
    plans.push_back(std::move(p));
  }
  for (uint64_t i = 0; i < plans.size(); ++i) plans[i].step = i;
  return plans;
}

// Room for eight sequences of kBlocksPerSequence blocks in both pools, two threads.
ExecutorOptions executor_options() {
  ExecutorOptions o;
  o.threads = 2;
  o.block_size = kBlockSize;
  o.num_blocks = 8 * kBlocksPerSequence;
  o.num_window_blocks = 8 * kBlocksPerSequence;
  o.max_sequences = 8;
  o.max_step_tokens = 64;
  return o;
}

TEST(StepAllocations, NoneInsideStepsOnceTheShapesHaveBeenSeen) {
  auto world = comm::make_local_communicator("world");
  RankExecutor executor(gossamer::testing::tiny_model_dir(), executor_options(), *world);

  // The warm-up pass: every buffer grows to what these shapes need.
  auto warm = workload(0);
  for (auto& plan : warm) ASSERT_EQ(executor.run_step(&plan).sequences.size(), plan.sequences.size());

  // The same shapes on four other sequences, counted.
  auto counted = workload(4);
  int64_t prefill_steps = 0, decode_steps = 0, tokens = 0;
  g_allocations = 0;
  g_counting = true;
  for (auto& plan : counted) {
    const auto& result = executor.run_step(&plan);
    if (result.sequences.size() != plan.sequences.size()) break;
    for (const auto& s : plan.sequences) tokens += static_cast<int64_t>(s.token_ids.size());
    bool prefill = false;
    for (const auto& s : plan.sequences) prefill |= s.token_ids.size() > 1;
    ++(prefill ? prefill_steps : decode_steps);
  }
  g_counting = false;
  EXPECT_EQ(prefill_steps, 11);  // the starting prefill and the 10 mixed steps
  EXPECT_EQ(decode_steps, 100);
  EXPECT_GT(tokens, 500);
  EXPECT_EQ(g_allocations.load(), 0) << "operator new was called inside the steps";
}

// The counter itself works: the same loop with a fresh executor (nothing warmed) must see
// allocations, or a zero above would prove nothing.
TEST(StepAllocations, TheCounterSeesAllocationsOfAColdExecutor) {
  auto world = comm::make_local_communicator("world");
  RankExecutor executor(gossamer::testing::tiny_model_dir(), executor_options(), *world);
  auto plans = workload(0);
  g_allocations = 0;
  g_counting = true;
  for (size_t i = 0; i < 3; ++i) executor.run_step(&plans[i]);
  g_counting = false;
  EXPECT_GT(g_allocations.load(), 0);
}

}  // namespace
}  // namespace gossamer::worker
