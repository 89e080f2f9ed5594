#pragma once
// Continuous batching over a paged KV cache (vLLM-style), decided on world rank 0.
//
// Every step: running requests first (in admission order: decodes take one token, prefills
// a chunk), then waiting requests join the batch while the step's token budget and KV
// blocks last. A request's first prompt blocks may come from the prefix cache. When a
// running request needs a block and none is left, the most recently admitted request not
// yet in this step is preempted: its blocks are freed and it goes back to the head of the
// queue, to be recomputed later (its streamed output is kept). Sliding-window layers have
// their own block pool and give blocks back as they slide out of the window (KvPools).
//
// Thread-safety: none; the step thread owns it.
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "worker/kv_pools.h"
#include "coordinator/request.h"
#include "worker/rank_executor.h"
#include "worker/step_plan.h"

namespace gossamer::coordinator {

using worker::KvPools;

struct SchedulerOptions {
  int dp = 1;                     // DP replicas, each with its own KV pool
  worker::KvPoolSizes kv{16, 256, 0, 0};  // per replica: both pools, as the ranks hold them
  int64_t max_batch_tokens = 2048;  // tokens per step (decodes + prefill chunks)
  int max_running = 64;           // sequences in the batch at once (all replicas)
  bool prefix_cache = true;
};

// A sequence in the step that was just planned, and how many tokens it feeds.
struct Scheduled {
  Request* request;
  int64_t chunk;
};

class Scheduler {
 public:
  explicit Scheduler(const SchedulerOptions& options);

  void enqueue(std::unique_ptr<Request> r);  // to the back of the waiting queue
  size_t num_waiting() const { return waiting_.size(); }
  size_t num_running() const { return running_.size(); }
  bool idle() const { return waiting_.empty() && running_.empty(); }

  // Removes the request (waiting or running) and frees its blocks; null when not here.
  std::unique_ptr<Request> remove(const std::string& connection, const std::string& id);
  // Removes every request (shutdown, rank failure).
  std::vector<std::unique_ptr<Request>> remove_all();

  // Plans the next step (kRun) and remembers what was scheduled; empty plan when idle.
  worker::StepPlan plan_step(uint64_t step);
  const std::vector<Scheduled>& scheduled() const { return scheduled_; }
  // After the step ran: advances `computed`, registers full blocks in the prefix cache and
  // returns the requests that got a new token (appended to their tokens), with it.
  std::vector<std::pair<Request*, int32_t>> apply(const worker::StepResult& result);

  // Stats over all replicas: the full-attention pool, then the sliding-window pool.
  int64_t blocks_total() const;
  int64_t blocks_used() const;
  int64_t blocks_cached() const;
  int64_t window_blocks_total() const;
  int64_t window_blocks_used() const;
  int64_t window_blocks_cached() const;
  int64_t prefix_hit_blocks() const;
  int64_t preemptions() const { return preemptions_; }
  const SchedulerOptions& options() const { return options_; }

 private:
  bool ensure_blocks(Request& r, int64_t upto, bool may_preempt);
  void preempt(Request& victim);
  bool admit(Request& r, int64_t budget);
  worker::SequencePlan sequence_plan(const Request& r, int64_t chunk) const;

  SchedulerOptions options_;
  std::vector<KvPools> pools_;                    // per DP replica
  std::deque<std::unique_ptr<Request>> waiting_;
  std::vector<std::unique_ptr<Request>> running_;  // admission order
  std::vector<Scheduled> scheduled_;
  int64_t next_seq_ = 0;
  int64_t preemptions_ = 0;
};

}  // namespace gossamer::coordinator
