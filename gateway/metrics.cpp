#include "gateway/metrics.h"

#include <fmt/format.h>

#include "gateway/openai_response.h"

namespace gossamer::gateway {
namespace {

void header(std::string& out, const std::string& name, const char* type, const std::string& help) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

void sample(std::string& out, const std::string& name, double value, const std::string& labels = "") {
  out += name;
  if (!labels.empty()) out += "{" + labels + "}";
  out += fmt::format(" {}\n", value);
}

void gauge(std::string& out, const std::string& name, const std::string& help, double value) {
  header(out, name, "gauge", help);
  sample(out, name, value);
}

void counter(std::string& out, const std::string& name, const std::string& help, double value) {
  header(out, name, "counter", help);
  sample(out, name, value);
}

}  // namespace

void Histogram::observe(double seconds) {
  size_t i = 0;
  while (i < bounds_.size() && seconds > bounds_[i]) ++i;
  std::lock_guard lock(mu_);
  ++counts_[i];
  sum_ += seconds;
  ++total_;
}

uint64_t Histogram::count() const {
  std::lock_guard lock(mu_);
  return total_;
}

void Histogram::render(const std::string& name, const std::string& help, std::string& out) const {
  std::lock_guard lock(mu_);
  header(out, name, "histogram", help);
  uint64_t cumulative = 0;
  for (size_t i = 0; i < bounds_.size(); ++i) {
    cumulative += counts_[i];
    sample(out, name + "_bucket", static_cast<double>(cumulative), fmt::format("le=\"{}\"", bounds_[i]));
  }
  sample(out, name + "_bucket", static_cast<double>(total_), "le=\"+Inf\"");
  sample(out, name + "_sum", sum_);
  sample(out, name + "_count", static_cast<double>(total_));
}

const char* outcome_name(Outcome o) {
  switch (o) {
    case Outcome::kSuccess: return "success";
    case Outcome::kClientError: return "client_error";
    case Outcome::kRateLimited: return "rate_limited";
    case Outcome::kServerError: return "server_error";
    case Outcome::kCancelled: return "cancelled";
  }
  return "unknown";
}

Metrics::Metrics() = default;

void Metrics::finished(Outcome o) { outcomes_[static_cast<size_t>(o)].fetch_add(1); }

void Metrics::completed(const protocol::Done& done) {
  prompt_tokens_.fetch_add(static_cast<uint64_t>(done.usage.prompt_tokens));
  generation_tokens_.fetch_add(static_cast<uint64_t>(done.usage.completion_tokens));
  cached_tokens_.fetch_add(static_cast<uint64_t>(done.usage.cached_tokens.value_or(0)));
  std::lock_guard lock(mu_);
  ++finish_reasons_[openai_finish_reason(done.finish_reason)];
}

std::string Metrics::render(const std::optional<protocol::StatsReply>& stats) const {
  std::string out;
  header(out, "gossamer:requests_total", "counter", "HTTP inference requests by how they ended.");
  for (size_t i = 0; i < outcomes_.size(); ++i)
    sample(out, "gossamer:requests_total", static_cast<double>(outcomes_[i].load()),
           fmt::format("outcome=\"{}\"", outcome_name(static_cast<Outcome>(i))));
  header(out, "gossamer:request_success_total", "counter", "Requests the model finished, by finish reason.");
  {
    std::lock_guard lock(mu_);
    for (const char* reason : {"stop", "length", "tool_calls"}) {
      auto it = finish_reasons_.find(reason);
      sample(out, "gossamer:request_success_total", it == finish_reasons_.end() ? 0.0 : static_cast<double>(it->second),
             fmt::format("finished_reason=\"{}\"", reason));
    }
  }
  gauge(out, "gossamer:gateway_requests_in_flight", "Requests this gateway is serving now.", static_cast<double>(in_flight_.load()));
  counter(out, "gossamer:prompt_tokens_total", "Prompt tokens of requests finished through this gateway.",
          static_cast<double>(prompt_tokens_.load()));
  counter(out, "gossamer:generation_tokens_total", "Tokens generated for requests finished through this gateway.",
          static_cast<double>(generation_tokens_.load()));
  counter(out, "gossamer:prefix_cache_queries_total", "Prompt tokens looked up in the prefix cache.",
          static_cast<double>(prompt_tokens_.load()));
  counter(out, "gossamer:prefix_cache_hits_total", "Prompt tokens served from the prefix cache.",
          static_cast<double>(cached_tokens_.load()));
  const double queried = static_cast<double>(prompt_tokens_.load());
  gauge(out, "gossamer:prefix_cache_hit_rate", "Share of prompt tokens served from the prefix cache so far (0-1).",
        queried > 0 ? static_cast<double>(cached_tokens_.load()) / queried : 0.0);
  ttft.render("gossamer:time_to_first_token_seconds", "Time to first token as the gateway saw it.", out);
  inter_token.render("gossamer:inter_token_latency_seconds", "Time between streamed deltas.", out);
  e2e.render("gossamer:e2e_request_latency_seconds", "Request latency, received to last byte.", out);
  gauge(out, "gossamer:upstream_up", "1 when the front door answered the stats request of this scrape.", stats ? 1 : 0);
  if (!stats) return out;
  const auto extra = [&](const char* key) { return stats->extra.is_object() ? stats->extra.value(key, 0.0) : 0.0; };
  gauge(out, "gossamer:num_requests_running", "Sequences running on the cluster.", static_cast<double>(stats->running));
  gauge(out, "gossamer:num_requests_waiting", "Requests waiting in the admission queue.", static_cast<double>(stats->queued));
  header(out, "gossamer:kv_blocks_used", "gauge", "KV cache blocks in use, per pool (full attention, sliding window).");
  sample(out, "gossamer:kv_blocks_used", static_cast<double>(stats->kv_blocks_used), "pool=\"full\"");
  sample(out, "gossamer:kv_blocks_used", extra("kv_window_blocks_used"), "pool=\"window\"");
  header(out, "gossamer:kv_blocks_total", "gauge", "KV cache blocks, per pool.");
  sample(out, "gossamer:kv_blocks_total", static_cast<double>(stats->kv_blocks_total), "pool=\"full\"");
  sample(out, "gossamer:kv_blocks_total", extra("kv_window_blocks_total"), "pool=\"window\"");
  gauge(out, "gossamer:kv_cache_usage_perc", "Fraction of the full-attention KV pool in use (0-1).",
        stats->kv_blocks_total > 0 ? static_cast<double>(stats->kv_blocks_used) / static_cast<double>(stats->kv_blocks_total) : 0.0);
  counter(out, "gossamer:num_preemptions_total", "Sequences preempted for KV space (cluster).", extra("preemptions"));
  counter(out, "gossamer:prefix_cache_hit_blocks_total", "KV blocks served from the prefix cache (cluster).", extra("prefix_cache_hit_blocks"));
  counter(out, "gossamer:cluster_generation_tokens_total", "Tokens generated by the cluster for all its clients.", extra("tokens_generated"));
  counter(out, "gossamer:cluster_requests_completed_total", "Requests the cluster completed for all its clients.", static_cast<double>(stats->completed));
  counter(out, "gossamer:cluster_requests_rejected_total", "Requests the cluster refused for all its clients.", static_cast<double>(stats->rejected));
  return out;
}

}  // namespace gossamer::gateway
