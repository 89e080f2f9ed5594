#include "kernels/cpu/sampling.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace gossamer::kernels::cpu {
namespace {

int32_t argmax(const float* l, int64_t vocab) {
  int64_t best = 0;
  for (int64_t i = 1; i < vocab; ++i)
    if (l[i] > l[best]) best = i;  // strict: the lowest id wins ties
  return int32_t(best);
}

// Ranked before: higher logit, then lower id.
struct Ranked {
  const float* l;
  bool operator()(int32_t a, int32_t b) const { return l[a] > l[b] || (l[a] == l[b] && a < b); }
};

}  // namespace

int32_t sample_token(const float* logits, int64_t vocab, const SamplingParams& params,
                     uint64_t step) {
  const int32_t top = argmax(logits, vocab);
  if (params.temperature <= 0.0f) return top;
  const double inv_t = 1.0 / double(params.temperature);
  const double mx = double(logits[top]) * inv_t;
  const double u = sampling_uniform(params.seed, step);

  const bool use_k = params.top_k > 0 && params.top_k < vocab;
  const bool use_p = params.top_p < 1.0f;
  if (!use_k && !use_p) {
    // Every token survives: two passes in id order, no ranking at all.
    double total = 0;
    for (int64_t i = 0; i < vocab; ++i) total += std::exp(double(logits[i]) * inv_t - mx);
    const double target = u * total;
    double cum = 0;
    int32_t last = top;
    for (int64_t i = 0; i < vocab; ++i) {
      double w = std::exp(double(logits[i]) * inv_t - mx);
      if (w == 0.0) continue;
      cum += w;
      last = int32_t(i);
      if (cum > target) return last;
    }
    return last;
  }

  // Ranked survivors of top-k (or all of them for top-p alone).
  std::vector<int32_t> rank(static_cast<size_t>(vocab));
  std::iota(rank.begin(), rank.end(), 0);
  size_t kept = size_t(vocab);
  if (use_k) {
    kept = size_t(params.top_k);
    std::nth_element(rank.begin(), rank.begin() + long(kept) - 1, rank.end(), Ranked{logits});
    rank.resize(kept);
  }
  std::sort(rank.begin(), rank.end(), Ranked{logits});
  std::vector<double> w(kept);
  for (size_t i = 0; i < kept; ++i) w[i] = std::exp(double(logits[rank[i]]) * inv_t - mx);

  // Id-ordered view of the survivors, for sums that match the reference's order.
  std::vector<size_t> by_id(kept);
  std::iota(by_id.begin(), by_id.end(), size_t{0});
  std::sort(by_id.begin(), by_id.end(), [&](size_t a, size_t b) { return rank[a] < rank[b]; });
  auto id_ordered_sum = [&] {
    double s = 0;
    for (size_t i : by_id) s += w[i];
    return s;
  };

  if (use_p) {
    const double goal = double(params.top_p) * id_ordered_sum();
    double cum = 0;
    size_t p_kept = 0;
    while (p_kept < kept) {
      cum += w[p_kept++];
      if (cum >= goal) break;
    }
    for (size_t i = p_kept; i < kept; ++i) w[i] = 0.0;
  }

  const double target = u * id_ordered_sum();
  double cum = 0;
  int32_t last = top;
  for (size_t i : by_id) {
    if (w[i] == 0.0) continue;
    cum += w[i];
    last = rank[i];
    if (cum > target) return last;
  }
  return last;
}

}  // namespace gossamer::kernels::cpu
