#pragma once
// The one step planner: continuous batching over the paged KV pools (vLLM-style), decided
// on world rank 0. The service (coordinator::Scheduler) and the offline Engine (generate,
// eval-logits, bench) both plan their steps with it, so every verb runs the serving path.
//
// Every step: running sequences first, in admission order (decodes take one token, then
// prefills a chunk), then waiting sequences join while the step's token budget, the running
// limit and the KV blocks last. A new sequence's first blocks may come from the prefix cache.
// When a running sequence needs a block and none is left, the most recently admitted
// sequence of its replica that is not in this step is preempted: its blocks are freed and it
// goes back to the head of the queue, to be recomputed later (its tokens are kept).
// Sliding-window layers have their own pool and give blocks back as they slide out of the
// window (KvPools). A running sequence with nothing left to compute (its owner has not
// appended a token yet) is simply not scheduled.
//
// `Seq` is the owner's sequence type; it derives from PlannedSequence. Thread-safety: none;
// the step thread owns it.
#include <algorithm>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/log.h"
#include "worker/kv_pools.h"
#include "worker/step_plan.h"

namespace gossamer::worker {

// What the planner tracks of a sequence. tokens[0, computed) are in the KV cache; a step
// feeds tokens[computed, computed + chunk). When that reaches the end, the step's sampled
// id is the sequence's next token: its owner appends it (or not, for an evaluation).
struct PlannedSequence {
  std::vector<int32_t> tokens;  // prompt (+ generated)
  int64_t prompt_tokens = 0;
  SamplingParams sampling;
  bool want_logits = false;  // every fed row's logits come back (eval-logits)

  // Planner state.
  int64_t seq_id = -1;  // assigned at first admission; its replica is seq_id % dp
  int replica = 0;
  SequenceKv kv;
  int64_t computed = 0;
  int64_t cached_tokens = 0;  // prompt tokens served from the prefix cache
  int preemptions = 0;
  bool scheduled_once = false;

  int64_t generated() const { return static_cast<int64_t>(tokens.size()) - prompt_tokens; }
  int64_t left() const { return static_cast<int64_t>(tokens.size()) - computed; }
};

struct StepPlannerOptions {
  int dp = 1;                             // DP replicas, each with its own KV pools
  KvPoolSizes kv{16, 256, 0, 0};          // per replica: both pools, as the ranks hold them
  int64_t max_batch_tokens = 2048;        // tokens per step (decodes + prefill chunks)
  int64_t max_chunk_tokens = 0;           // tokens of one sequence per step; 0 = the budget
  int max_running = 64;                   // sequences in the batch at once (all replicas)
  bool prefix_cache = true;
};

// One sequence of the step that was just planned.
template <class Seq>
struct Scheduled {
  Seq* request;
  int64_t chunk;
};

// What a step did to one scheduled sequence (StepPlanner::apply).
template <class Seq>
struct StepOutcome {
  Seq* seq;
  int64_t chunk;         // tokens fed this step
  bool complete;         // its last token was fed: `token` is its next one
  int32_t token;         // sampled from the chunk's last row
  const SequenceResult* result;  // logits when want_logits (valid until the next step)
};

template <class Seq>
class StepPlanner {
 public:
  explicit StepPlanner(const StepPlannerOptions& options) : options_(options) {
    GOSSAMER_CHECK(options.dp >= 1 && options.max_batch_tokens >= 1 && options.max_running >= 1,
                   "step planner: dp, max_batch_tokens and max_running must be >= 1");
    for (int r = 0; r < options.dp; ++r) pools_.emplace_back(options.kv, options.prefix_cache);
  }

  void enqueue(std::unique_ptr<Seq> s) { waiting_.push_back(std::move(s)); }
  size_t num_waiting() const { return waiting_.size(); }
  size_t num_running() const { return running_.size(); }
  bool idle() const { return waiting_.empty() && running_.empty(); }

  // Removes the first sequence (running or waiting) that `match` accepts and frees its
  // blocks; null when none does.
  std::unique_ptr<Seq> remove_if(const std::function<bool(const Seq&)>& match) {
    auto m = [&](const std::unique_ptr<Seq>& s) { return match(*s); };
    std::unique_ptr<Seq> out;
    if (auto it = std::find_if(running_.begin(), running_.end(), m); it != running_.end()) {
      out = std::move(*it);
      running_.erase(it);
    } else if (auto w = std::find_if(waiting_.begin(), waiting_.end(), m); w != waiting_.end()) {
      out = std::move(*w);
      waiting_.erase(w);
    }
    if (out) pools_[static_cast<size_t>(out->replica)].release(out->kv);
    return out;
  }
  std::unique_ptr<Seq> remove(const Seq* s) {
    return remove_if([s](const Seq& c) { return &c == s; });
  }
  // Removes every sequence (shutdown, rank failure).
  std::vector<std::unique_ptr<Seq>> remove_all() {
    std::vector<std::unique_ptr<Seq>> out;
    for (auto& s : running_) out.push_back(std::move(s));
    for (auto& s : waiting_) out.push_back(std::move(s));
    running_.clear();
    waiting_.clear();
    for (auto& s : out) pools_[static_cast<size_t>(s->replica)].release(s->kv);
    return out;
  }

  // Plans the next step (kRun) and remembers what was scheduled; an empty plan when
  // nothing can run (idle, or every candidate waits for KV blocks).
  StepPlan plan_step(uint64_t step) {
    scheduled_.clear();
    StepPlan plan;
    plan.step = step;
    plan.command = StepCommand::kRun;
    int64_t budget = options_.max_batch_tokens;
    // Decodes first (one token each, they are what users wait on), then prefill chunks.
    for (int pass = 0; pass < 2 && budget > 0; ++pass) {
      for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
        Seq& s = *running_[i];
        const int64_t left = s.left();
        if (left == 0 || (pass == 0) != (left == 1)) continue;
        const int64_t chunk = chunk_for(left, budget);
        if (!ensure_blocks(s, s.computed + chunk, true)) continue;  // waits for blocks
        scheduled_.push_back({&s, chunk});
        budget -= chunk;
      }
    }
    // New sequences join the running batch while budget, slots and blocks last (FIFO).
    while (!waiting_.empty() && budget > 0 && static_cast<int>(running_.size()) < options_.max_running) {
      Seq& s = *waiting_.front();
      if (!admit(s, budget)) break;
      budget -= scheduled_.back().chunk;
      running_.push_back(std::move(waiting_.front()));
      waiting_.pop_front();
    }
    for (const auto& sc : scheduled_) plan.sequences.push_back(sequence_plan(*sc.request, sc.chunk));
    return plan;
  }
  const std::vector<Scheduled<Seq>>& scheduled() const { return scheduled_; }

  // After the step ran: advances `computed`, registers full blocks in the prefix cache and
  // returns one outcome per scheduled sequence, in plan order. Appending a complete
  // sequence's token is its owner's call.
  std::vector<StepOutcome<Seq>> apply(const StepResult& result) {
    GOSSAMER_CHECK(result.sequences.size() == scheduled_.size(), "step returned {} results for {} sequences",
                   result.sequences.size(), scheduled_.size());
    std::vector<StepOutcome<Seq>> out;
    out.reserve(scheduled_.size());
    for (size_t i = 0; i < scheduled_.size(); ++i) {
      Seq& s = *scheduled_[i].request;
      s.computed += scheduled_[i].chunk;
      // Blocks whose content is now complete become shareable.
      pools_[static_cast<size_t>(s.replica)].commit(s.kv, s.tokens, s.computed);
      const bool complete = s.computed == static_cast<int64_t>(s.tokens.size());
      out.push_back({&s, scheduled_[i].chunk, complete, result.sequences[i].token, &result.sequences[i]});
    }
    scheduled_.clear();
    return out;
  }

  // Stats over all replicas: the full-attention pool, then the sliding-window pool.
  int64_t blocks_total() const { return sum([](const KvPools& p) { return p.full().num_total(); }); }
  int64_t blocks_used() const { return sum([](const KvPools& p) { return p.full().num_used(); }); }
  int64_t blocks_cached() const { return sum([](const KvPools& p) { return p.full().num_cached(); }); }
  int64_t window_blocks_total() const {
    return sum([](const KvPools& p) { return p.has_window() ? p.window().num_total() : 0; });
  }
  int64_t window_blocks_used() const {
    return sum([](const KvPools& p) { return p.has_window() ? p.window().num_used() : 0; });
  }
  int64_t window_blocks_cached() const {
    return sum([](const KvPools& p) { return p.has_window() ? p.window().num_cached() : 0; });
  }
  int64_t prefix_hit_blocks() const { return sum([](const KvPools& p) { return p.prefix_hit_blocks(); }); }
  int64_t preemptions() const { return preemptions_; }
  const StepPlannerOptions& options() const { return options_; }
  const KvPools& pools(int replica) const { return pools_.at(static_cast<size_t>(replica)); }

 private:
  int64_t chunk_for(int64_t left, int64_t budget) const {
    int64_t chunk = std::min(left, budget);
    if (options_.max_chunk_tokens > 0) chunk = std::min(chunk, options_.max_chunk_tokens);
    return chunk;
  }

  template <class F>
  int64_t sum(F f) const {
    int64_t n = 0;
    for (const auto& p : pools_) n += f(p);
    return n;
  }

  void preempt(Seq& victim) {
    pools_[static_cast<size_t>(victim.replica)].release(victim.kv);
    victim.computed = 0;
    ++victim.preemptions;
    ++preemptions_;
    auto it = std::find_if(running_.begin(), running_.end(), [&](auto& s) { return s.get() == &victim; });
    GLOG_DEBUG("preempting sequence {} to free KV blocks", victim.seq_id);
    waiting_.push_front(std::move(*it));
    running_.erase(it);
  }

  // Makes s's block tables cover positions [computed, upto). May preempt later-admitted
  // sequences of the same replica that are not in the current step.
  bool ensure_blocks(Seq& s, int64_t upto, bool may_preempt) {
    auto& pools = pools_[static_cast<size_t>(s.replica)];
    while (!pools.reserve(s.kv, s.computed, upto)) {
      if (!may_preempt) return false;
      Seq* victim = nullptr;
      for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
        Seq* c = it->get();
        if (c == &s || c->replica != s.replica) continue;
        const bool in_step = std::any_of(scheduled_.begin(), scheduled_.end(),
                                         [&](const Scheduled<Seq>& sc) { return sc.request == c; });
        if (!in_step) {
          victim = c;
          break;
        }
      }
      if (!victim) return false;
      preempt(*victim);
    }
    return true;
  }

  bool admit(Seq& s, int64_t budget) {
    if (s.seq_id < 0) {  // first admission: the replica with the most room
      int best = 0;
      for (int i = 1; i < options_.dp; ++i)
        if (pools_[static_cast<size_t>(i)].num_available() > pools_[static_cast<size_t>(best)].num_available())
          best = i;
      s.replica = best;
      s.seq_id = next_seq_++ * options_.dp + best;
    }
    auto& pools = pools_[static_cast<size_t>(s.replica)];
    if (s.computed == 0) {
      s.computed = pools.take_prefix(s.tokens, s.kv);
      if (!s.scheduled_once) s.cached_tokens = std::min(s.computed, s.prompt_tokens);
    }
    const int64_t chunk = chunk_for(s.left(), budget);
    if (chunk <= 0 || !ensure_blocks(s, s.computed + chunk, false)) {
      pools.release(s.kv);
      s.computed = 0;
      return false;
    }
    scheduled_.push_back({&s, chunk});
    return true;
  }

  SequencePlan sequence_plan(const Seq& s, int64_t chunk) const {
    SequencePlan sp;
    sp.seq_id = s.seq_id;
    sp.start_pos = s.computed;
    sp.token_ids.assign(s.tokens.begin() + s.computed, s.tokens.begin() + s.computed + chunk);
    sp.block_table = s.kv.full;
    sp.window_block_table = s.kv.window;
    sp.sampling = s.sampling;
    sp.want_logits = s.want_logits;
    sp.is_prefill = chunk > 1;
    return sp;
  }

  StepPlannerOptions options_;
  std::vector<KvPools> pools_;  // per DP replica
  std::deque<std::unique_ptr<Seq>> waiting_;
  std::vector<std::unique_ptr<Seq>> running_;  // admission order
  std::vector<Scheduled<Seq>> scheduled_;
  int64_t next_seq_ = 0;
  int64_t preemptions_ = 0;
};

}  // namespace gossamer::worker
