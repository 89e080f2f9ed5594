#include "coordinator/scheduler.h"

#include <algorithm>

#include "core/error.h"
#include "core/log.h"

namespace gossamer::coordinator {

Scheduler::Scheduler(const SchedulerOptions& options) : options_(options) {
  GOSSAMER_CHECK(options.dp >= 1 && options.max_batch_tokens >= 1 && options.max_running >= 1,
                 "scheduler: dp, max_batch_tokens and max_running must be >= 1");
  for (int r = 0; r < options.dp; ++r) pools_.emplace_back(options.kv, options.prefix_cache);
}

void Scheduler::enqueue(std::unique_ptr<Request> r) { waiting_.push_back(std::move(r)); }

std::unique_ptr<Request> Scheduler::remove(const std::string& connection, const std::string& id) {
  auto match = [&](const std::unique_ptr<Request>& r) { return r->connection == connection && r->id == id; };
  std::unique_ptr<Request> out;
  if (auto it = std::find_if(running_.begin(), running_.end(), match); it != running_.end()) {
    out = std::move(*it);
    running_.erase(it);
  } else if (auto w = std::find_if(waiting_.begin(), waiting_.end(), match); w != waiting_.end()) {
    out = std::move(*w);
    waiting_.erase(w);
  }
  if (out) pools_[static_cast<size_t>(out->replica)].release(out->kv);
  return out;
}

std::vector<std::unique_ptr<Request>> Scheduler::remove_all() {
  std::vector<std::unique_ptr<Request>> out;
  for (auto& r : running_) out.push_back(std::move(r));
  for (auto& r : waiting_) out.push_back(std::move(r));
  running_.clear();
  waiting_.clear();
  for (auto& r : out) pools_[static_cast<size_t>(r->replica)].release(r->kv);
  return out;
}

void Scheduler::preempt(Request& victim) {
  pools_[static_cast<size_t>(victim.replica)].release(victim.kv);
  victim.computed = 0;
  ++victim.preemptions;
  ++preemptions_;
  auto it = std::find_if(running_.begin(), running_.end(), [&](auto& r) { return r.get() == &victim; });
  GLOG_DEBUG("preempting request '{}' (seq {}) to free KV blocks", victim.id, victim.seq_id);
  waiting_.push_front(std::move(*it));
  running_.erase(it);
}

// Makes r's block tables cover positions [computed, upto). May preempt later-admitted
// requests of the same replica that are not in the current step.
bool Scheduler::ensure_blocks(Request& r, int64_t upto, bool may_preempt) {
  auto& pools = pools_[static_cast<size_t>(r.replica)];
  while (!pools.reserve(r.kv, r.computed, upto)) {
    if (!may_preempt) return false;
    Request* victim = nullptr;
    for (auto it = running_.rbegin(); it != running_.rend(); ++it) {
      Request* c = it->get();
      if (c == &r || c->replica != r.replica) continue;
      const bool in_step = std::any_of(scheduled_.begin(), scheduled_.end(),
                                       [&](const Scheduled& s) { return s.request == c; });
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

worker::SequencePlan Scheduler::sequence_plan(const Request& r, int64_t chunk) const {
  worker::SequencePlan sp;
  sp.seq_id = r.seq_id;
  sp.start_pos = r.computed;
  sp.token_ids.assign(r.tokens.begin() + r.computed, r.tokens.begin() + r.computed + chunk);
  sp.block_table = r.kv.full;
  sp.window_block_table = r.kv.window;
  sp.sampling = r.sampling;
  sp.is_prefill = chunk > 1;
  return sp;
}

bool Scheduler::admit(Request& r, int64_t budget) {
  if (r.seq_id < 0) {  // first admission: the replica with the most room
    int best = 0;
    for (int i = 1; i < options_.dp; ++i)
      if (pools_[static_cast<size_t>(i)].num_available() > pools_[static_cast<size_t>(best)].num_available()) best = i;
    r.replica = best;
    r.seq_id = next_seq_++ * options_.dp + best;
  }
  auto& pools = pools_[static_cast<size_t>(r.replica)];
  const auto total = static_cast<int64_t>(r.tokens.size());
  if (r.computed == 0) {
    r.computed = pools.take_prefix(r.tokens, r.kv);
    if (!r.scheduled_once) r.cached_tokens = std::min(r.computed, r.prompt_tokens);
  }
  const int64_t chunk = std::min(total - r.computed, budget);
  if (!ensure_blocks(r, r.computed + chunk, false)) {
    pools.release(r.kv);
    r.computed = 0;
    return false;
  }
  scheduled_.push_back({&r, chunk});
  return true;
}

worker::StepPlan Scheduler::plan_step(uint64_t step) {
  scheduled_.clear();
  worker::StepPlan plan;
  plan.step = step;
  plan.command = worker::StepCommand::kRun;
  int64_t budget = options_.max_batch_tokens;
  // Decodes first (one token each, they are what users wait on), then prefill chunks.
  for (int pass = 0; pass < 2 && budget > 0; ++pass) {
    for (size_t i = 0; i < running_.size() && budget > 0; ++i) {
      Request& r = *running_[i];
      const int64_t left = static_cast<int64_t>(r.tokens.size()) - r.computed;
      if ((pass == 0) != (left == 1)) continue;
      const int64_t chunk = std::min(left, budget);
      if (!ensure_blocks(r, r.computed + chunk, true)) continue;  // waits for blocks
      scheduled_.push_back({&r, chunk});
      budget -= chunk;
    }
  }
  // New requests join the running batch while budget, slots and blocks last (FIFO).
  while (!waiting_.empty() && budget > 0 && static_cast<int>(running_.size()) < options_.max_running) {
    Request& r = *waiting_.front();
    if (!admit(r, budget)) break;
    budget -= scheduled_.back().chunk;
    running_.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  for (const auto& s : scheduled_) plan.sequences.push_back(sequence_plan(*s.request, s.chunk));
  return plan;
}

std::vector<std::pair<Request*, int32_t>> Scheduler::apply(const worker::StepResult& result) {
  GOSSAMER_CHECK(result.sequences.size() == scheduled_.size(), "step returned {} results for {} sequences",
                 result.sequences.size(), scheduled_.size());
  std::vector<std::pair<Request*, int32_t>> out;
  for (size_t i = 0; i < scheduled_.size(); ++i) {
    Request& r = *scheduled_[i].request;
    r.computed += scheduled_[i].chunk;
    // Blocks whose content is now complete become shareable.
    pools_[static_cast<size_t>(r.replica)].commit(r.kv, r.tokens, r.computed);
    if (r.computed == static_cast<int64_t>(r.tokens.size())) {
      const int32_t token = result.sequences[i].token;
      r.tokens.push_back(token);
      out.emplace_back(&r, token);
    }
  }
  scheduled_.clear();
  return out;
}

namespace {

template <typename F>
int64_t sum_over(const std::vector<KvPools>& pools, F f) {
  int64_t n = 0;
  for (const auto& p : pools) n += f(p);
  return n;
}

}  // namespace

int64_t Scheduler::blocks_total() const { return sum_over(pools_, [](const KvPools& p) { return p.full().num_total(); }); }
int64_t Scheduler::blocks_used() const { return sum_over(pools_, [](const KvPools& p) { return p.full().num_used(); }); }
int64_t Scheduler::blocks_cached() const { return sum_over(pools_, [](const KvPools& p) { return p.full().num_cached(); }); }
int64_t Scheduler::window_blocks_total() const {
  return sum_over(pools_, [](const KvPools& p) { return p.has_window() ? p.window().num_total() : 0; });
}
int64_t Scheduler::window_blocks_used() const {
  return sum_over(pools_, [](const KvPools& p) { return p.has_window() ? p.window().num_used() : 0; });
}
int64_t Scheduler::window_blocks_cached() const {
  return sum_over(pools_, [](const KvPools& p) { return p.has_window() ? p.window().num_cached() : 0; });
}
int64_t Scheduler::prefix_hit_blocks() const { return sum_over(pools_, [](const KvPools& p) { return p.prefix_hit_blocks(); }); }

}  // namespace gossamer::coordinator
