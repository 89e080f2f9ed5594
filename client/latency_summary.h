#pragma once
// Percentiles of a latency sample, the numbers a load test reports.
#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

namespace gossamer::client {

struct LatencySummary {
  size_t count = 0;
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
};

// Linear interpolation between closest ranks (numpy's default), p in [0, 100].
double percentile(std::vector<double> sorted_or_not, double p);
LatencySummary summarize(const std::vector<double>& samples);
nlohmann::json to_json(const LatencySummary& s);

}  // namespace gossamer::client
