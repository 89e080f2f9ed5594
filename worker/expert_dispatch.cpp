#include "worker/expert_dispatch.h"

#include <cstring>
#include <numeric>
#include <vector>

#include "comm/communicator.h"
#include "core/error.h"

namespace gossamer::worker {
namespace {

// Computes out[p] = expert(rows[row_of[p]]) for every pair p whose expert is local,
// grouping the pairs of one expert so it runs once over all its rows.
void compute_local_pairs(const float* rows, const int32_t* row_of, const int32_t* expert_of,
                         int64_t pairs, int64_t H, const ExpertPlacement& pl,
                         const ExpertFn& expert, float* out) {
  std::vector<std::vector<int64_t>> by_expert(static_cast<size_t>(pl.local_experts));
  for (int64_t p = 0; p < pairs; ++p) {
    const int64_t e = expert_of[p] - pl.first_expert;
    if (e >= 0 && e < pl.local_experts) by_expert[static_cast<size_t>(e)].push_back(p);
  }
  std::vector<float> in, res;
  for (int64_t e = 0; e < pl.local_experts; ++e) {
    const auto& list = by_expert[static_cast<size_t>(e)];
    const auto m = static_cast<int64_t>(list.size());
    if (m == 0) continue;
    in.resize(static_cast<size_t>(m * H));
    res.resize(static_cast<size_t>(m * H));
    for (int64_t r = 0; r < m; ++r)
      std::memcpy(in.data() + r * H, rows + row_of[list[static_cast<size_t>(r)]] * H, sizeof(float) * H);
    expert(e, in.data(), m, res.data());
    for (int64_t r = 0; r < m; ++r)
      std::memcpy(out + list[static_cast<size_t>(r)] * H, res.data() + r * H, sizeof(float) * H);
  }
}

// Token counts of every EP rank.
std::vector<size_t> gather_counts(comm::Communicator& ep, int64_t n, Device device) {
  int64_t mine = n;
  std::vector<int64_t> all(static_cast<size_t>(ep.size()));
  ep.all_gather(&mine, 1, all.data(), DType::kI64, Device::kCPU);
  (void)device;
  return {all.begin(), all.end()};
}

// All-gather the tokens, every rank computes its experts' pairs for all of them, and a
// reduce-scatter returns each rank its own pairs. Exactly one rank contributes a non-zero
// row per pair, so the sum is exact. Static shapes; traffic grows with the EP size.
void dispatch_allgather(const LayerContext& ctx, const float* h, const int32_t* experts,
                        int64_t n, int k, int64_t H, const ExpertPlacement& pl,
                        const ExpertFn& expert, float* slot_out) {
  auto& ep = *ctx.ep;
  const Device dev = ctx.exec.device;
  const auto counts = gather_counts(ep, n, dev);
  const auto total = static_cast<int64_t>(std::accumulate(counts.begin(), counts.end(), size_t{0}));
  std::vector<size_t> row_counts, id_counts, out_counts;
  for (size_t c : counts) {
    row_counts.push_back(c * static_cast<size_t>(H));
    id_counts.push_back(c * static_cast<size_t>(k));
    out_counts.push_back(c * static_cast<size_t>(k * H));
  }
  std::vector<float> all_rows(static_cast<size_t>(total * H));
  std::vector<int32_t> all_experts(static_cast<size_t>(total * k));
  ep.all_gatherv(h, static_cast<size_t>(n * H), all_rows.data(), row_counts, {}, DType::kF32, dev);
  ep.all_gatherv(experts, static_cast<size_t>(n * k), all_experts.data(), id_counts, {}, DType::kI32,
                 Device::kCPU);
  std::vector<int32_t> row_of(static_cast<size_t>(total * k));
  for (int64_t p = 0; p < total * k; ++p) row_of[static_cast<size_t>(p)] = static_cast<int32_t>(p / k);
  std::vector<float> all_out(static_cast<size_t>(total * k * H), 0.0f);
  compute_local_pairs(all_rows.data(), row_of.data(), all_experts.data(), total * k, H, pl, expert,
                      all_out.data());
  ep.reduce_scatter_sum(all_out.data(), slot_out, out_counts, dev);
}

// Send each routed row only to the rank owning its expert, and the result back
// (all-to-all-v both ways). Traffic is just the routed rows.
void dispatch_alltoall(const LayerContext& ctx, const float* h, const int32_t* experts,
                       int64_t n, int k, int64_t H, const ExpertPlacement& pl,
                       const ExpertFn& expert, float* slot_out) {
  auto& ep = *ctx.ep;
  const Device dev = ctx.exec.device;
  const auto size = static_cast<size_t>(ep.size());
  // Pairs ordered by destination rank (stable: token order within a destination).
  std::vector<std::vector<int64_t>> to(size);
  for (int64_t p = 0; p < n * k; ++p)
    to[static_cast<size_t>(experts[p] / pl.local_experts)].push_back(p);
  std::vector<int64_t> send_pairs(static_cast<size_t>(n * k));
  std::vector<int64_t> send_n(size), recv_n(size);
  size_t at = 0;
  for (size_t r = 0; r < size; ++r) {
    send_n[r] = static_cast<int64_t>(to[r].size());
    for (int64_t p : to[r]) send_pairs[at++] = p;
  }
  ep.all_to_all(send_n.data(), 1, recv_n.data(), DType::kI64, Device::kCPU);
  int64_t recv_total = 0;
  for (int64_t c : recv_n) recv_total += c;

  std::vector<float> send_rows(static_cast<size_t>(n * k * H));
  std::vector<int32_t> send_ids(static_cast<size_t>(n * k));
  for (size_t i = 0; i < send_pairs.size(); ++i) {
    const int64_t p = send_pairs[i];
    std::memcpy(send_rows.data() + static_cast<int64_t>(i) * H, h + (p / k) * H, sizeof(float) * H);
    send_ids[i] = experts[p];
  }
  std::vector<size_t> sc_rows, rc_rows, sc_ids, rc_ids;
  for (size_t r = 0; r < size; ++r) {
    sc_rows.push_back(static_cast<size_t>(send_n[r] * H));
    rc_rows.push_back(static_cast<size_t>(recv_n[r] * H));
    sc_ids.push_back(static_cast<size_t>(send_n[r]));
    rc_ids.push_back(static_cast<size_t>(recv_n[r]));
  }
  std::vector<float> recv_rows(static_cast<size_t>(recv_total * H));
  std::vector<int32_t> recv_ids(static_cast<size_t>(recv_total));
  ep.all_to_all_v(send_rows.data(), sc_rows, {}, recv_rows.data(), rc_rows, {}, DType::kF32, dev);
  ep.all_to_all_v(send_ids.data(), sc_ids, {}, recv_ids.data(), rc_ids, {}, DType::kI32, Device::kCPU);

  std::vector<int32_t> row_of(static_cast<size_t>(recv_total));
  std::iota(row_of.begin(), row_of.end(), 0);
  std::vector<float> results(static_cast<size_t>(recv_total * H));
  compute_local_pairs(recv_rows.data(), row_of.data(), recv_ids.data(), recv_total, H, pl, expert,
                      results.data());
  for (int32_t id : recv_ids)
    GOSSAMER_CHECK(id - pl.first_expert >= 0 && id - pl.first_expert < pl.local_experts,
                   "expert {} dispatched to the wrong rank", id);

  // The way back: the same counts, reversed.
  ep.all_to_all_v(results.data(), rc_rows, {}, send_rows.data(), sc_rows, {}, DType::kF32, dev);
  for (size_t i = 0; i < send_pairs.size(); ++i)
    std::memcpy(slot_out + send_pairs[i] * H, send_rows.data() + static_cast<int64_t>(i) * H,
                sizeof(float) * H);
}

}  // namespace

void run_experts(const LayerContext& ctx, const float* h, const int32_t* experts, int64_t n,
                 int k, int64_t H, const ExpertPlacement& pl, const ExpertFn& expert,
                 float* slot_out) {
  if (!ctx.ep_split()) {
    std::vector<int32_t> row_of(static_cast<size_t>(n * k));
    for (int64_t p = 0; p < n * k; ++p) row_of[static_cast<size_t>(p)] = static_cast<int32_t>(p / k);
    compute_local_pairs(h, row_of.data(), experts, n * k, H, pl, expert, slot_out);
    return;
  }
  if (ctx.dispatch == MoeDispatch::kAllGather)
    dispatch_allgather(ctx, h, experts, n, k, H, pl, expert, slot_out);
  else
    dispatch_alltoall(ctx, h, experts, n, k, H, pl, expert, slot_out);
}

}  // namespace gossamer::worker
