#include "worker/lm_head.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <numeric>

#include "comm/communicator.h"
#include "worker/mapping.h"

namespace gossamer::worker {

void SamplingScratch::reserve(int tp_size, int64_t rows, int64_t slice, int64_t vocab) {
  const auto tp = static_cast<size_t>(std::max(tp_size, 1));
  const auto m = static_cast<size_t>(std::max<int64_t>(rows, 1));
  counts.reserve(tp);
  slices.reserve(tp);
  order.reserve(static_cast<size_t>(slice));
  // Candidates for greedy and small top-k (c = 8); a larger top_k grows them once.
  constexpr size_t kCandidates = 8;
  for (auto* v : {&my_values, &all_values}) v->reserve(tp * m * kCandidates);
  for (auto* v : {&my_ids, &all_ids}) v->reserve(tp * m * kCandidates);
  merged.reserve(tp * kCandidates);
  merged_values.reserve(tp * kCandidates);
  if (tp > 1) {
    // Pure temperature / top-p rows gather their whole distribution.
    blocks.reserve(m * static_cast<size_t>(vocab));
    full.reserve(m * static_cast<size_t>(vocab));
  }
}

void gather_full_logits(const LayerContext& ctx, const float* local, int64_t m, int64_t vocab,
                        std::vector<float>& full, SamplingScratch& scratch) {
  full.resize(static_cast<size_t>(m * vocab));
  if (!ctx.tp_split()) {
    std::memcpy(full.data(), local, sizeof(float) * static_cast<size_t>(m * vocab));
    return;
  }
  // Gather [rank][m, V_r] blocks, then interleave them into rows.
  const int size = ctx.tp->size();
  auto& counts = scratch.counts;
  auto& slices = scratch.slices;
  counts.resize(static_cast<size_t>(size));
  slices.resize(static_cast<size_t>(size));
  for (int r = 0; r < size; ++r) {
    slices[static_cast<size_t>(r)] = ctx.mapping->vocab_of_tp_rank(r);
    counts[static_cast<size_t>(r)] = static_cast<size_t>(m * slices[static_cast<size_t>(r)].size());
  }
  auto& blocks = scratch.blocks;
  blocks.resize(static_cast<size_t>(m * vocab));
  ctx.tp->all_gatherv(local, static_cast<size_t>(m * ctx.mapping->vocab().size()), blocks.data(), counts,
                      {}, DType::kF32, ctx.exec.device);
  size_t at = 0;
  for (int r = 0; r < size; ++r) {
    const Range s = slices[static_cast<size_t>(r)];
    for (int64_t i = 0; i < m; ++i) {
      std::memcpy(full.data() + i * vocab + s.begin, blocks.data() + at, sizeof(float) * s.size());
      at += static_cast<size_t>(s.size());
    }
  }
}

namespace {

// Best c (logit, id) of one row of a slice, padded with (-inf, -1). idx: scratch.
void local_candidates(const float* row, Range slice, int c, float* values, int32_t* ids, std::vector<int32_t>& idx) {
  idx.resize(static_cast<size_t>(slice.size()));
  std::iota(idx.begin(), idx.end(), 0);
  const auto keep = std::min<int64_t>(c, slice.size());
  std::partial_sort(idx.begin(), idx.begin() + keep, idx.end(), [&](int32_t a, int32_t b) {
    return row[a] > row[b] || (row[a] == row[b] && a < b);
  });
  for (int i = 0; i < c; ++i) {
    values[i] = i < keep ? row[idx[static_cast<size_t>(i)]] : -std::numeric_limits<float>::infinity();
    ids[i] = i < keep ? static_cast<int32_t>(slice.begin + idx[static_cast<size_t>(i)]) : -1;
  }
}

}  // namespace

void sample_rows(const LayerContext& ctx, const float* local, int64_t m, Range slice, int64_t vocab,
                 const std::vector<kernels::SamplingParams>& params, const std::vector<uint64_t>& steps,
                 int32_t* tokens, SamplingScratch& scratch) {
  const int64_t width = slice.size();
  if (!ctx.tp_split()) {
    for (int64_t i = 0; i < m; ++i)
      tokens[i] = kernels::sample_token(local + i * width, vocab, params[static_cast<size_t>(i)],
                                        steps[static_cast<size_t>(i)]);
    return;
  }
  // Rows that need the whole distribution (temperature without top-k) gather it; the
  // others exchange only c = max(top_k, 1) candidates per slice.
  bool any_full = false;
  int c = 1;
  for (const auto& p : params) {
    if (p.temperature > 0 && p.top_k <= 0) any_full = true;
    c = std::max(c, p.top_k > 0 ? p.top_k : 1);
  }
  auto& full = scratch.full;
  if (any_full) gather_full_logits(ctx, local, m, vocab, full, scratch);

  const int size = ctx.tp->size();
  auto &my_values = scratch.my_values, &all_values = scratch.all_values;
  auto &my_ids = scratch.my_ids, &all_ids = scratch.all_ids;
  my_values.resize(static_cast<size_t>(m * c));
  all_values.resize(static_cast<size_t>(size * m * c));
  my_ids.resize(static_cast<size_t>(m * c));
  all_ids.resize(static_cast<size_t>(size * m * c));
  for (int64_t i = 0; i < m; ++i)
    local_candidates(local + i * width, slice, c, my_values.data() + i * c, my_ids.data() + i * c, scratch.order);
  // Candidates are host values: the host part of the group.
  ctx.tp_host->all_gather(my_values.data(), my_values.size(), all_values.data(), DType::kF32, Device::kCPU);
  ctx.tp_host->all_gather(my_ids.data(), my_ids.size(), all_ids.data(), DType::kI32, Device::kCPU);

  for (int64_t i = 0; i < m; ++i) {
    const auto& p = params[static_cast<size_t>(i)];
    if (p.temperature > 0 && p.top_k <= 0) {
      tokens[i] = kernels::sample_token(full.data() + i * vocab, vocab, p, steps[static_cast<size_t>(i)]);
      continue;
    }
    // Merge the candidates, in id order so that index ties break like the full row does.
    auto& merged = scratch.merged;
    merged.clear();
    for (int r = 0; r < size; ++r)
      for (int j = 0; j < c; ++j) {
        const size_t at = (static_cast<size_t>(r) * static_cast<size_t>(m) + static_cast<size_t>(i)) * static_cast<size_t>(c) + static_cast<size_t>(j);
        if (all_ids[at] >= 0) merged.emplace_back(all_ids[at], all_values[at]);
      }
    std::sort(merged.begin(), merged.end());
    auto& values = scratch.merged_values;
    values.clear();
    for (const auto& [id, v] : merged) values.push_back(v);
    const int32_t pick = kernels::sample_token(values.data(), static_cast<int64_t>(values.size()), p,
                                               steps[static_cast<size_t>(i)]);
    tokens[i] = merged[static_cast<size_t>(pick)].first;
  }
}

}  // namespace gossamer::worker
