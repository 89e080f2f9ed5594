#pragma once
// What the "nothing is allocated inside a step" tests share: a counting replacement of the
// global operator new, and the workload they count over. The replacement operator new and
// delete are definitions, not inline: include this header in exactly one source file of a
// program (tests/worker/test_step_allocations.cpp in test_worker, the multi-rank
// tests/mpi/step_allocations.cpp in a program of its own).
#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "worker/rank_executor.h"
#include "worker/step_plan.h"

namespace gossamer::testing {

// operator new calls while counting is on, on every thread of the process.
inline std::atomic<bool> g_counting_allocations{false};
inline std::atomic<int64_t> g_allocations{0};

inline void* counted_alloc(std::size_t n, std::size_t align) {
  if (g_counting_allocations.load(std::memory_order_relaxed)) g_allocations.fetch_add(1, std::memory_order_relaxed);
  void* p = align > alignof(std::max_align_t) ? std::aligned_alloc(align, (n + align - 1) / align * align)
                                              : std::malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}

}  // namespace gossamer::testing

void* operator new(std::size_t n) { return gossamer::testing::counted_alloc(n, 0); }
void* operator new[](std::size_t n) { return gossamer::testing::counted_alloc(n, 0); }
void* operator new(std::size_t n, std::align_val_t a) {
  return gossamer::testing::counted_alloc(n, static_cast<std::size_t>(a));
}
void* operator new[](std::size_t n, std::align_val_t a) {
  return gossamer::testing::counted_alloc(n, static_cast<std::size_t>(a));
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::align_val_t) noexcept { std::free(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept { std::free(p); }

namespace gossamer::testing {

constexpr int kAllocationBlockSize = 16;
constexpr int kAllocationBlocksPerSequence = 10;  // 160 positions: more than the workload reaches

struct AllocationSequence {
  int64_t id;
  int64_t length = 0;
  std::vector<int32_t> table;
  worker::SamplingParams sampling;
};

inline AllocationSequence allocation_sequence(int64_t id, worker::SamplingParams sampling) {
  AllocationSequence s{id, 0, {}, sampling};
  for (int b = 0; b < kAllocationBlocksPerSequence; ++b)
    s.table.push_back(static_cast<int32_t>(id * kAllocationBlocksPerSequence + b));
  return s;
}

// Feeds `count` tokens of `s` in `plan` (full and window tables alike: own blocks).
inline void feed_tokens(worker::StepPlan& plan, AllocationSequence& s, int count) {
  worker::SequencePlan sp;
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

// The workload on four fresh sequences (ids first_id ...): one mixed prefill to start, 10
// steps of a chunked prefill beside three decodes, then 100 decode steps, with greedy,
// top-p and top-k sampling. Plans are built up front, so building them is not part of any
// step.
inline std::vector<worker::StepPlan> allocation_workload(int64_t first_id) {
  worker::SamplingParams greedy, nucleus, topk;
  nucleus.temperature = 0.8f;
  nucleus.top_p = 0.9f;
  nucleus.seed = 7;
  topk.temperature = 1.0f;
  topk.top_k = 5;
  topk.seed = 9;
  std::vector<AllocationSequence> s = {
      allocation_sequence(first_id, greedy), allocation_sequence(first_id + 1, nucleus),
      allocation_sequence(first_id + 2, greedy), allocation_sequence(first_id + 3, topk)};
  std::vector<worker::StepPlan> plans;
  worker::StepPlan start;
  feed_tokens(start, s[0], 20);
  feed_tokens(start, s[1], 30);
  feed_tokens(start, s[3], 5);
  plans.push_back(std::move(start));
  for (int i = 0; i < 10; ++i) {
    worker::StepPlan p;
    feed_tokens(p, s[0], 1);
    feed_tokens(p, s[1], 1);
    feed_tokens(p, s[2], 5);  // a prompt arriving in chunks
    feed_tokens(p, s[3], 1);
    plans.push_back(std::move(p));
  }
  for (int i = 0; i < 100; ++i) {
    worker::StepPlan p;
    for (auto& seq : s) feed_tokens(p, seq, 1);
    plans.push_back(std::move(p));
  }
  for (uint64_t i = 0; i < plans.size(); ++i) plans[i].step = i;
  return plans;
}

// Room for eight sequences of kAllocationBlocksPerSequence blocks in both pools.
inline worker::ExecutorOptions allocation_executor_options(int threads) {
  worker::ExecutorOptions o;
  o.threads = threads;
  o.block_size = kAllocationBlockSize;
  o.num_blocks = 8 * kAllocationBlocksPerSequence;
  o.num_window_blocks = 8 * kAllocationBlocksPerSequence;
  o.max_sequences = 8;
  o.max_step_tokens = 64;
  return o;
}

}  // namespace gossamer::testing
