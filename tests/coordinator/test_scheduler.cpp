// KV block accounting, prefix cache and scheduler decisions, without a model.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>

#include "worker/kv_blocks.h"
#include "coordinator/scheduler.h"

namespace gossamer::coordinator {
namespace {

using worker::KvBlocks;

std::unique_ptr<Request> make_request(const std::string& id, std::vector<int32_t> tokens) {
  auto r = std::make_unique<Request>();
  r->connection = "c";
  r->id = id;
  r->tokens = std::move(tokens);
  r->prompt_tokens = static_cast<int64_t>(r->tokens.size());
  r->max_tokens = 100;
  return r;
}

std::vector<int32_t> iota(int n, int start = 0) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i) v.push_back(start + i);
  return v;
}

worker::StepResult fake_result(const worker::StepPlan& plan, int32_t token = 7) {
  worker::StepResult r;
  for (const auto& s : plan.sequences) r.sequences.push_back({s.seq_id, token, {}});
  return r;
}

// Applies a step that sampled `token` everywhere and appends it to every sequence whose
// chunk reached its end (what the service does); those sequences, with the token.
std::vector<std::pair<Request*, int32_t>> step_done(Scheduler& s, const worker::StepPlan& plan, int32_t token = 7) {
  auto result = fake_result(plan, token);
  std::vector<std::pair<Request*, int32_t>> out;
  for (const auto& o : s.apply(result))
    if (o.complete) {
      o.seq->tokens.push_back(o.token);
      out.emplace_back(o.seq, o.token);
    }
  return out;
}

TEST(KvBlocks, AllocateReleaseAndCacheReuse) {
  KvBlocks kv(8, 4);
  std::vector<int32_t> a;
  ASSERT_TRUE(kv.allocate(3, a));
  EXPECT_EQ(kv.num_used(), 3);
  const auto toks = iota(12);
  auto h = kv.block_hashes(toks, 3);
  ASSERT_EQ(h.size(), 3u);
  for (size_t i = 0; i < 3; ++i) kv.register_full(a[i], h[i]);
  std::vector<int32_t> b;
  for (uint64_t hash : h) {
    ASSERT_TRUE(kv.contains(hash));
    b.push_back(kv.take(hash));  // shared read-only
  }
  EXPECT_EQ(kv.hits(), 3);
  EXPECT_EQ(b, a);
  kv.release(a);
  EXPECT_EQ(kv.num_used(), 3);  // still referenced by b
  kv.release(b);
  EXPECT_EQ(kv.num_used(), 0);
  EXPECT_EQ(kv.num_cached(), 3);  // kept, evictable
  std::vector<int32_t> c;
  ASSERT_TRUE(kv.allocate(8, c));  // evicts the cached ones when the free list runs dry
  EXPECT_EQ(kv.num_cached(), 0);
  EXPECT_FALSE(kv.allocate(1, c));
}

TEST(KvBlocks, DifferentPrefixesDoNotMatch) {
  KvBlocks kv(8, 4);
  auto h1 = kv.block_hashes(iota(8), 2);
  auto t2 = iota(8);
  t2[1] = 99;  // differs in the first block: the second block's chain hash differs too
  auto h2 = kv.block_hashes(t2, 2);
  EXPECT_NE(h1[0], h2[0]);
  EXPECT_NE(h1[1], h2[1]);
}

TEST(Scheduler, ChunkedPrefillThenDecodeUnderBudget) {
  SchedulerOptions o;
  o.kv.full_blocks = 64;
  o.kv.block_size = 4;
  o.max_batch_tokens = 8;
  Scheduler s(o);
  s.enqueue(make_request("a", iota(20)));
  auto p1 = s.plan_step(0);
  ASSERT_EQ(p1.sequences.size(), 1u);
  EXPECT_EQ(p1.sequences[0].token_ids.size(), 8u);  // a chunk, not the whole prompt
  EXPECT_TRUE(step_done(s, p1).empty());    // no token until the prompt is in
  auto p2 = s.plan_step(1);
  EXPECT_EQ(p2.sequences[0].start_pos, 8);
  step_done(s, p2);
  auto p3 = s.plan_step(2);
  EXPECT_EQ(p3.sequences[0].token_ids.size(), 4u);
  auto got = step_done(s, p3);
  ASSERT_EQ(got.size(), 1u);
  // A new request joins the running batch at the next step, next to the decode.
  s.enqueue(make_request("b", iota(6, 100)));
  auto p4 = s.plan_step(3);
  ASSERT_EQ(p4.sequences.size(), 2u);
  EXPECT_EQ(p4.sequences[0].token_ids.size(), 1u);
  EXPECT_EQ(p4.sequences[1].token_ids.size(), 6u);
}

TEST(Scheduler, PrefixCacheSkipsSharedFullBlocks) {
  SchedulerOptions o;
  o.kv.full_blocks = 64;
  o.kv.block_size = 4;
  Scheduler s(o);
  s.enqueue(make_request("a", iota(10)));
  auto p = s.plan_step(0);
  step_done(s, p);
  auto b = iota(10);
  b[9] = 55;  // same first 8 tokens (2 full blocks)
  s.enqueue(make_request("b", b));
  auto p2 = s.plan_step(1);
  ASSERT_EQ(p2.sequences.size(), 2u);
  EXPECT_EQ(p2.sequences[1].start_pos, 8);  // blocks 0 and 1 come from the cache
  EXPECT_EQ(p2.sequences[1].token_ids.size(), 2u);
  EXPECT_EQ(p2.sequences[1].block_table[0], p.sequences[0].block_table[0]);
  EXPECT_EQ(s.prefix_hit_blocks(), 2);
}

TEST(Scheduler, PreemptsWhenBlocksRunOutAndFreesOnRemove) {
  SchedulerOptions o;
  o.kv.full_blocks = 4;
  o.kv.block_size = 2;
  o.prefix_cache = false;
  Scheduler s(o);
  s.enqueue(make_request("a", iota(3)));
  s.enqueue(make_request("b", iota(3, 50)));
  auto p = s.plan_step(0);
  ASSERT_EQ(p.sequences.size(), 2u);  // 2 blocks each: the pool is full
  step_done(s, p);
  auto p2 = s.plan_step(1);  // a decodes into its 2nd block (has room: 4 of 4 positions)
  step_done(s, p2);
  auto p3 = s.plan_step(2);  // a needs a 3rd block: b is preempted
  EXPECT_EQ(s.preemptions(), 1);
  EXPECT_EQ(s.num_waiting(), 1u);
  ASSERT_EQ(p3.sequences.size(), 1u);
  step_done(s, p3);
  auto a = remove_request(s, "c", "a");
  ASSERT_TRUE(a);
  EXPECT_EQ(s.blocks_used(), 0);
  auto p4 = s.plan_step(3);  // b recomputes prompt + its generated token
  ASSERT_EQ(p4.sequences.size(), 1u);
  EXPECT_EQ(p4.sequences[0].start_pos, 0);
  EXPECT_EQ(p4.sequences[0].token_ids.size(), 5u);
}

TEST(Scheduler, SlidingWindowLayersKeepOnlyTheirWindowWhileDecoding) {
  SchedulerOptions o;
  o.kv.full_blocks = 64;
  o.kv.block_size = 2;
  o.kv.window = 4;         // a query sees itself and the 3 positions before it
  o.kv.window_blocks = 8;  // far fewer than a long sequence's full table
  Scheduler s(o);
  s.enqueue(make_request("a", iota(3)));
  int64_t max_window_used = 0;
  for (uint64_t step = 0; step < 40; ++step) {
    auto p = s.plan_step(step);
    ASSERT_EQ(p.sequences.size(), 1u);
    const auto& sp = p.sequences[0];
    const int64_t end = sp.start_pos + static_cast<int64_t>(sp.token_ids.size());
    ASSERT_EQ(sp.window_block_table.size(), sp.block_table.size());
    // Every block a query of the chunk sees is held; the ones before it are handed back.
    const int64_t first = worker::first_visible_block(sp.start_pos, o.kv.window, o.kv.block_size);
    for (int64_t b = 0; b < static_cast<int64_t>(sp.window_block_table.size()); ++b) {
      if (b < first) EXPECT_EQ(sp.window_block_table[static_cast<size_t>(b)], worker::kNoBlock) << b;
      else EXPECT_GE(sp.window_block_table[static_cast<size_t>(b)], 0) << b;
    }
    EXPECT_EQ(s.blocks_used(), (end + 1) / 2);  // full-attention layers keep everything
    max_window_used = std::max(max_window_used, s.window_blocks_used());
    step_done(s, p);
  }
  // 42 positions computed: 21 full blocks, but never more than 3 window blocks (window 4,
  // blocks of 2).
  EXPECT_EQ(s.blocks_used(), 21);
  EXPECT_LE(max_window_used, 3);
  EXPECT_EQ(s.preemptions(), 0);
  remove_request(s, "c", "a");
  EXPECT_EQ(s.blocks_used(), 0);
  EXPECT_EQ(s.window_blocks_used(), 0);
}

TEST(Scheduler, PrefixCacheHitTakesTheVisibleWindowBlocksToo) {
  SchedulerOptions o;
  o.kv.full_blocks = 64;
  o.kv.block_size = 4;
  o.kv.window = 6;
  o.kv.window_blocks = 32;
  Scheduler s(o);
  s.enqueue(make_request("a", iota(21)));
  auto p = s.plan_step(0);
  step_done(s, p);  // 5 full blocks computed and cached in both pools
  auto b = iota(21);
  b[20] = 99;
  s.enqueue(make_request("b", b));
  auto p2 = s.plan_step(1);
  ASSERT_EQ(p2.sequences.size(), 2u);
  const auto& sb = p2.sequences[1];
  EXPECT_EQ(sb.start_pos, 20);
  // Logical blocks 3 and 4 are what a query at position 20 sees; 0..2 are not taken.
  ASSERT_EQ(sb.window_block_table.size(), 6u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(sb.window_block_table[static_cast<size_t>(i)], worker::kNoBlock);
  EXPECT_EQ(sb.window_block_table[3], p.sequences[0].window_block_table[3]);
  EXPECT_EQ(sb.window_block_table[4], p.sequences[0].window_block_table[4]);
  EXPECT_EQ(sb.block_table[0], p.sequences[0].block_table[0]);
}

// Random arrivals, prompt and output lengths, cancellations, and pools small enough that
// both run dry: every planned step must hand each sequence tables that cover its chunk,
// with every visible window block valid and no block held by two sequences at once
// (prefix cache off, so nothing is shared legitimately); every request must finish and
// leave both pools empty.
TEST(Scheduler, RandomLoadKeepsBothPoolsConsistent) {
  SchedulerOptions o;
  o.kv.full_blocks = 40;
  o.kv.block_size = 4;
  o.kv.window = 6;
  o.kv.window_blocks = 12;
  o.max_batch_tokens = 24;
  o.max_running = 6;
  o.prefix_cache = false;
  Scheduler s(o);
  std::mt19937 rng(11);
  std::map<std::string, int64_t> target;  // id -> prompt + output length
  int submitted = 0, finished = 0;
  for (uint64_t step = 0; step < 3000 && (submitted < 60 || !s.idle()); ++step) {
    if (submitted < 60 && rng() % 3 == 0) {
      const std::string id = "r" + std::to_string(submitted++);
      const int prompt = 1 + static_cast<int>(rng() % 30);
      s.enqueue(make_request(id, iota(prompt, 1000 * submitted)));
      target[id] = prompt + 1 + static_cast<int64_t>(rng() % 30);
    }
    auto plan = s.plan_step(step);
    std::set<int32_t> full_held, window_held;
    for (size_t i = 0; i < plan.sequences.size(); ++i) {
      const auto& sp = plan.sequences[i];
      const int64_t end = sp.start_pos + static_cast<int64_t>(sp.token_ids.size());
      const auto need = static_cast<size_t>((end + 3) / 4);
      ASSERT_GE(sp.block_table.size(), need);
      ASSERT_EQ(sp.window_block_table.size(), sp.block_table.size());
      const int64_t first = worker::first_visible_block(sp.start_pos, o.kv.window, o.kv.block_size);
      for (size_t b = 0; b < sp.block_table.size(); ++b) {
        EXPECT_TRUE(full_held.insert(sp.block_table[b]).second) << "full block shared, step " << step;
        const int32_t w = sp.window_block_table[b];
        if (static_cast<int64_t>(b) >= first) {
          ASSERT_GE(w, 0) << "visible window block dropped, step " << step;
        }
        if (w >= 0) {
          EXPECT_TRUE(window_held.insert(w).second) << "window block shared, step " << step;
        }
      }
    }
    EXPECT_LE(s.window_blocks_used(), o.kv.window_blocks);
    for (auto& [r, token] : step_done(s, plan)) {
      if (static_cast<int64_t>(r->tokens.size()) >= target[r->id]) {
        ASSERT_TRUE(remove_request(s, r->connection, r->id));
        ++finished;
      }
    }
    if (step % 97 == 0 && s.num_running() > 0) {  // a cancellation now and then
      const std::string victim = "r" + std::to_string(rng() % static_cast<unsigned>(submitted));
      if (remove_request(s, "c", victim)) ++finished;
    }
  }
  EXPECT_EQ(submitted, 60);
  EXPECT_EQ(finished, 60);
  EXPECT_TRUE(s.idle());
  EXPECT_EQ(s.blocks_used(), 0);
  EXPECT_EQ(s.window_blocks_used(), 0);
  EXPECT_GT(s.preemptions(), 0);  // the pools were small enough to force some
}

}  // namespace
}  // namespace gossamer::coordinator
