#pragma once
// The golden bf16 tier (tests/data/tiny/golden/manifest.json, tolerances.bf16_engine) for a
// whole engine: every golden sequence fed as one prefill, each position's logits against the
// fp32 golden logits; the median and p90 of the per-position max |error|, the argmax
// agreement, the mean KL(golden || engine) and each sequence's bf16_strict_greedy_prefix
// (teacher-forced) judged against the tier. Used by every fast path (CPU precision fast,
// the GPU), so they are all held to the same rules.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "golden_data.h"
#include "worker/engine.h"

namespace gossamer::testing {

inline int64_t golden_argmax(const float* row, int64_t n) {
  return std::max_element(row, row + n) - row;  // first maximum: the lowest id on ties
}

inline double kl_golden_to_engine(const float* golden, const float* engine, int64_t n) {
  auto lse = [n](const float* r) {
    const double mx = *std::max_element(r, r + n);
    double s = 0;
    for (int64_t i = 0; i < n; ++i) s += std::exp(double(r[i]) - mx);
    return mx + std::log(s);
  };
  const double lp = lse(golden), lq = lse(engine);
  double kl = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double p = double(golden[i]) - lp, q = double(engine[i]) - lq;
    kl += std::exp(p) * (p - q);
  }
  return kl;
}

struct Bf16TierFigures {
  double median = 0, p90 = 0, agreement = 0, mean_kl = 0;
  size_t positions = 0;
};

// Feeds every golden sequence (and the long sequence when `with_long` is set) through
// `engine` and checks the tier with gtest expectations; returns the figures for printing.
inline Bf16TierFigures expect_golden_bf16_tier(worker::Engine& engine, const std::string& label,
                                               bool with_long = false) {
  const auto& tier = tiny_manifest()["tolerances"]["bf16_engine"];
  const int64_t V = engine.config().vocab_size;
  std::vector<double> max_errs, kls;
  int64_t agree = 0;
  // Golden row j holds position rows[j] (every position when rows is empty).
  auto judge = [&](const std::vector<int32_t>& tokens, const std::vector<float>& golden, std::vector<float>& logits,
                   const std::vector<int64_t>& rows) {
    const int64_t seq = engine.open_sequence();
    engine.feed(seq, tokens, true, logits);
    engine.close_sequence(seq);
    const size_t n = rows.empty() ? tokens.size() : rows.size();
    EXPECT_EQ(logits.size(), tokens.size() * static_cast<size_t>(V)) << label;
    EXPECT_EQ(golden.size(), n * static_cast<size_t>(V)) << label;
    if (logits.size() != tokens.size() * static_cast<size_t>(V) || golden.size() != n * static_cast<size_t>(V)) {
      logits.clear();
      return;
    }
    for (size_t j = 0; j < n; ++j) {
      const float* g = logits.data() + (rows.empty() ? static_cast<int64_t>(j) : rows[j]) * V;
      const float* w = golden.data() + j * V;
      double err = 0;
      for (int64_t i = 0; i < V; ++i) err = std::max(err, std::abs(double(g[i]) - double(w[i])));
      max_errs.push_back(err);
      agree += golden_argmax(g, V) == golden_argmax(w, V);
      kls.push_back(kl_golden_to_engine(w, g, V));
    }
  };
  std::vector<float> logits;
  for (const auto& s : tiny_manifest()["sequences"]) {
    const auto tokens = s["tokens"].get<std::vector<int32_t>>();
    judge(tokens, read_f32_file(tiny_data_dir() + "/golden/" + s["files"]["ref_fp32"].get<std::string>()), logits, {});
    if (logits.empty()) continue;
    // Teacher-forced greedy: row prompt_len - 1 + j predicts generated token j.
    const auto greedy = s["greedy"].get<std::vector<int32_t>>();
    for (int j = 0; j < s["bf16_strict_greedy_prefix"].get<int>(); ++j) {
      const int64_t t = s["prompt_len"].get<int64_t>() - 1 + j;
      EXPECT_EQ(golden_argmax(logits.data() + t * V, V), greedy[static_cast<size_t>(j)])
          << label << ": sequence " << s["id"] << " generated token " << j;
    }
  }
  if (with_long) {
    const auto& l = tiny_manifest()["long_sequence"];
    judge(l["tokens"].get<std::vector<int32_t>>(),
          read_f32_file(tiny_data_dir() + "/golden/" + l["files"]["ref_fp32"].get<std::string>()), logits,
          l["logit_positions"].get<std::vector<int64_t>>());
  }
  Bf16TierFigures f;
  f.positions = max_errs.size();
  EXPECT_GT(f.positions, 0u) << label << ": no position was judged";
  if (max_errs.empty()) return f;
  std::sort(max_errs.begin(), max_errs.end());
  f.median = max_errs[max_errs.size() / 2];
  f.p90 = max_errs[std::min(max_errs.size() - 1, static_cast<size_t>(0.9 * max_errs.size()))];
  for (double k : kls) f.mean_kl += k;
  f.mean_kl /= static_cast<double>(kls.size());
  f.agreement = static_cast<double>(agree) / static_cast<double>(max_errs.size());
  EXPECT_LE(f.median, tier["median_over_positions_of_per_position_max_abs"].get<double>()) << label;
  EXPECT_LE(f.p90, tier["p90_over_positions_of_per_position_max_abs"].get<double>()) << label;
  EXPECT_GE(f.agreement, tier["argmax_agreement_over_all_positions_at_least"].get<double>()) << label;
  EXPECT_LE(f.mean_kl, tier["mean_kl_golden_to_engine_at_most"].get<double>()) << label;
  std::printf("%s: median %.4g p90 %.4g argmax agreement %.4f mean KL %.4g over %zu positions\n", label.c_str(),
              f.median, f.p90, f.agreement, f.mean_kl, f.positions);
  return f;
}

}  // namespace gossamer::testing
