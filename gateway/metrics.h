#pragma once
// The gateway's Prometheus metrics (text exposition format 0.0.4). Names follow vLLM's
// (vllm:num_requests_running -> gossamer:num_requests_running, ...) so dashboards built
// for vLLM map over by changing the prefix. Counters and latency histograms are the
// gateway's own; queue, running sequences, KV blocks and preemptions come from the front
// door's `stats` reply at scrape time.
#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "protocol/server_messages.h"

namespace gossamer::gateway {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds) : bounds_(std::move(upper_bounds)), counts_(bounds_.size() + 1) {}
  void observe(double seconds);
  // Appends the _bucket/_sum/_count lines of `name`.
  void render(const std::string& name, const std::string& help, std::string& out) const;
  uint64_t count() const;

 private:
  mutable std::mutex mu_;
  std::vector<double> bounds_;
  std::vector<uint64_t> counts_;  // per bucket, not cumulative; last = +Inf
  double sum_ = 0;
  uint64_t total_ = 0;
};

// How a request ended, as the client saw it.
enum class Outcome { kSuccess, kClientError, kRateLimited, kServerError, kCancelled };
const char* outcome_name(Outcome o);

class Metrics {
 public:
  Metrics();
  void finished(Outcome o);
  // A request the front door completed: its finish reason and usage.
  void completed(const protocol::Done& done);
  void started() { in_flight_.fetch_add(1); }
  void ended() { in_flight_.fetch_sub(1); }

  Histogram ttft{{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80}};
  Histogram inter_token{{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1, 2.5, 5}};
  Histogram e2e{{0.01, 0.05, 0.1, 0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 40, 50, 60, 120}};

  // The whole page; `stats` is the front door's reply, absent when it did not answer.
  std::string render(const std::optional<protocol::StatsReply>& stats) const;
  uint64_t outcome_count(Outcome o) const { return outcomes_[static_cast<size_t>(o)].load(); }

 private:
  std::array<std::atomic<uint64_t>, 5> outcomes_{};
  std::atomic<int64_t> in_flight_{0};
  std::atomic<uint64_t> prompt_tokens_{0}, generation_tokens_{0}, cached_tokens_{0};
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> finish_reasons_;
};

}  // namespace gossamer::gateway
