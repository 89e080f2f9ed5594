#include "kernels/ref/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace gossamer::kernels::ref {

int32_t sample_token(const float* logits, int64_t vocab, const SamplingParams& params,
                     uint64_t step) {
  std::vector<int32_t> rank(static_cast<size_t>(vocab));
  std::iota(rank.begin(), rank.end(), 0);
  std::stable_sort(rank.begin(), rank.end(),
                   [&](int32_t a, int32_t b) { return logits[a] > logits[b]; });
  if (params.temperature <= 0.0f) return rank[0];

  const double inv_t = 1.0 / double(params.temperature);
  size_t kept = rank.size();
  if (params.top_k > 0) kept = std::min(kept, size_t(params.top_k));
  const double mx = double(logits[rank[0]]) * inv_t;
  std::vector<double> w(static_cast<size_t>(vocab), 0.0);  // by id; 0 = dropped
  for (size_t i = 0; i < kept; ++i) w[size_t(rank[i])] = std::exp(double(logits[rank[i]]) * inv_t - mx);

  if (params.top_p < 1.0f) {
    double total = 0;
    for (int64_t id = 0; id < vocab; ++id) total += w[size_t(id)];
    double cum = 0;
    size_t p_kept = 0;
    while (p_kept < kept) {
      cum += w[size_t(rank[p_kept++])];
      if (cum >= double(params.top_p) * total) break;
    }
    for (size_t i = p_kept; i < kept; ++i) w[size_t(rank[i])] = 0.0;
  }

  double total = 0;
  for (int64_t id = 0; id < vocab; ++id) total += w[size_t(id)];
  const double target = sampling_uniform(params.seed, step) * total;
  double cum = 0;
  int32_t last = rank[0];
  for (int64_t id = 0; id < vocab; ++id) {
    if (w[size_t(id)] == 0.0) continue;
    cum += w[size_t(id)];
    last = int32_t(id);
    if (cum > target) return last;
  }
  return last;  // rounding left target at the very end
}

}  // namespace gossamer::kernels::ref
