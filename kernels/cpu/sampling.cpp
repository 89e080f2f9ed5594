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

  auto weight = [&](int32_t id) { return std::exp(double(logits[id]) * inv_t - mx); };

  // Survivors of top-k (every token for top-p alone), not yet ordered. The buffers are
  // the calling thread's, kept between calls: a decode step allocates nothing.
  thread_local std::vector<int32_t> rank, ids;
  rank.resize(static_cast<size_t>(vocab));
  std::iota(rank.begin(), rank.end(), 0);
  size_t kept = size_t(vocab);
  if (use_k) {
    kept = size_t(params.top_k);
    std::nth_element(rank.begin(), rank.begin() + long(kept) - 1, rank.end(), Ranked{logits});
    rank.resize(kept);
  }

  if (use_p) {
    // Sum of the survivors in ascending id order, as the reference does.
    double total = 0;
    if (use_k) {
      ids.assign(rank.begin(), rank.end());
      std::sort(ids.begin(), ids.end());
      for (int32_t id : ids) total += weight(id);
    } else {
      for (int64_t id = 0; id < vocab; ++id) total += weight(int32_t(id));
    }
    // Rank only as far as the nucleus reaches: a growing prefix instead of a full sort
    // of a 200K vocabulary (the nucleus is usually a few tokens).
    const double goal = double(params.top_p) * total;
    size_t m = std::min(kept, size_t{1024}), chosen = kept;
    for (;;) {
      std::nth_element(rank.begin(), rank.begin() + long(m) - 1, rank.begin() + long(kept), Ranked{logits});
      std::sort(rank.begin(), rank.begin() + long(m), Ranked{logits});
      double cum = 0;
      size_t i = 0;
      bool reached = false;
      while (i < m && !reached) {
        cum += weight(rank[i++]);
        reached = cum >= goal;
      }
      if (reached || m == kept) {
        chosen = i;
        break;
      }
      m = std::min(kept, m * 8);
    }
    rank.resize(chosen);
  }

  // The draw walks the kept tokens in ascending id order.
  std::sort(rank.begin(), rank.end());
  double total = 0;
  for (int32_t id : rank) total += weight(id);
  const double target = u * total;
  double cum = 0;
  int32_t last = top;
  for (int32_t id : rank) {
    const double w = weight(id);
    if (w == 0.0) continue;
    cum += w;
    last = id;
    if (cum > target) return last;
  }
  return last;
}

}  // namespace gossamer::kernels::cpu
