#include "worker/expert_dispatch.h"

#include <numeric>

#include "comm/communicator.h"
#include "core/error.h"
#include "kernels/moe_combine.h"
#include "kernels/moe_permute.h"
#include "worker/mapping.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/device.h"
#include "kernels/cuda/memory.h"
#endif

namespace gossamer::worker {

void run_grouped_experts(const kernels::Exec& exec, const LocalExperts& e, const float* x,
                         const kernels::ExpertGroups& groups, float* act, float* out) {
  kernels::grouped_mxfp4_swiglu(exec, act, x, groups, e.mlp1, e.mlp1_bias, e.swiglu_alpha, e.swiglu_limit);
  kernels::grouped_mxfp4_linear(exec, out, act, kernels::ExpertGroups{groups.offsets, groups.groups, nullptr},
                                e.mlp2, e.mlp2_bias);
}

int64_t run_local_pairs(const kernels::Exec& exec, const float* h, const int32_t* experts, int64_t n, int k,
                        const LocalExperts& local, MoeScratch& s) {
  GOSSAMER_CHECK(n * k <= s.group_pairs, "{} pairs exceed the MoE scratch ({})", n * k, s.group_pairs);
  kernels::MoePermutation perm;
  perm.offsets = s.offsets.data();
  perm.row_token = s.row_token.data();
  perm.pair_row = s.pair_row.data();
  const int64_t rows =
      kernels::moe_permute(exec, experts, n, k, kernels::ExpertRange{local.first_expert, local.count}, perm);
  run_grouped_experts(exec, local, h, kernels::ExpertGroups{s.offsets.data(), local.count, s.row_token.data()},
                      s.act.data(), s.expert_out.data());
  return rows;
}

namespace {

// All-gather the tokens, every rank computes its experts' pairs for all of them, and a
// reduce-scatter returns each rank its own pairs. Exactly one rank contributes a non-zero
// row per pair, so the sum is exact. Static shapes; traffic grows with the EP size. The
// per-rank counts live in the workspace (s.counts): nothing is allocated here.
void dispatch_allgather(const LayerContext& ctx, const float* h, const int32_t* experts, int64_t n, int k,
                        int64_t H, const LocalExperts& local, MoeScratch& s, float* slot_out) {
  auto& ep = *ctx.ep;
  const Device dev = ctx.exec.device;
  const int size = ep.size();
  // Token counts of every EP rank (host values: the host part of the group).
  const auto tokens = counts_of(s.counts.received, size);
  int64_t mine = n;
  ctx.ep_host->all_gather(&mine, 1, tokens.data(), DType::kI64, Device::kCPU);
  const int64_t total = std::accumulate(tokens.begin(), tokens.end(), int64_t{0});
  GOSSAMER_CHECK(total * k <= s.group_pairs, "{} gathered pairs exceed the MoE scratch ({})", total * k,
                 s.group_pairs);
  const auto row_counts = counts_of(s.counts.rows, size);
  const auto id_counts = counts_of(s.counts.ids, size);
  const auto out_counts = counts_of(s.counts.out, size);
  for (size_t r = 0; r < static_cast<size_t>(size); ++r) {
    const auto c = static_cast<size_t>(tokens[r]);
    row_counts[r] = c * static_cast<size_t>(H);
    id_counts[r] = c * static_cast<size_t>(k);
    out_counts[r] = c * static_cast<size_t>(k * H);
  }
  float* all_rows = s.peer_rows.data();
  int32_t* all_experts = s.peer_ids.data();
  ep.all_gatherv(h, static_cast<size_t>(n * H), all_rows, row_counts, {}, DType::kF32, dev);
  ep.all_gatherv(experts, static_cast<size_t>(n * k), all_experts, id_counts, {}, DType::kI32, dev);
  run_local_pairs(ctx.exec, all_rows, all_experts, total, k, local, s);
  // [total, k, H]: this rank's pairs filled, the others zero.
  kernels::moe_unpermute(ctx.exec, s.pair_out.data(), s.expert_out.data(), s.pair_row.data(), total * k, H);
  ep.reduce_scatter_sum(s.pair_out.data(), slot_out, out_counts, dev);
}

// Copies `count` host ids to a device array; returns when the copy is done (`ids` may then change).
void upload_ids(const kernels::Exec& exec, int32_t* dst, const int32_t* ids, int64_t count) {
  if (count == 0) return;
#ifdef GOSSAMER_HAVE_CUDA
  kernels::cuda::copy_h2d_async(dst, ids, sizeof(int32_t) * static_cast<size_t>(count), exec.stream);
  kernels::cuda::synchronize(exec.stream);
#else
  (void)dst;
  (void)ids;
  kernels::unsupported_device("upload_ids", exec);
#endif
}

// Send each routed row only to the rank owning its expert, and the result back
// (all-to-all-v both ways). Traffic is just the routed rows.
void dispatch_alltoall(const LayerContext& ctx, const float* h, const int32_t* experts, int64_t n, int k,
                       int64_t H, const LocalExperts& local, MoeScratch& s, float* slot_out) {
  auto& ep = *ctx.ep;
  const Device dev = ctx.exec.device;
  const int group = ep.size();
  const auto size = static_cast<size_t>(group);
  const int64_t all_experts = ctx.config->num_local_experts;
  // This rank's pairs ordered by expert — hence by destination rank — gathered into
  // send_rows. Stable: token order within an expert.
  kernels::MoePermutation send;
  send.offsets = s.send_offsets.data();
  send.row_token = s.send_token.data();
  send.pair_row = s.send_pair_row.data();
  send.gathered = s.send_rows.data();
  kernels::moe_permute(ctx.exec, experts, n, k, kernels::ExpertRange{0, all_experts}, send, h, H);
  // The offsets decide the message sizes, so the host needs them: on a GPU a small copy
  // back (E + 1 values), and the expert id of each sent row goes up again (both staged in
  // the workspace's host arrays).
  const int64_t* off = s.send_offsets.data();
  if (ctx.exec.device != Device::kCPU) {
    int64_t* host_offsets = s.host_offsets.data();
    kernels::copy_to_host(ctx.exec, host_offsets, off, sizeof(int64_t) * static_cast<size_t>(all_experts + 1));
    off = host_offsets;
    int32_t* ids = s.host_ids.data();
    for (int64_t e = 0; e < all_experts; ++e)
      for (int64_t i = off[e]; i < off[e + 1]; ++i) ids[i] = static_cast<int32_t>(e);
    upload_ids(ctx.exec, s.send_ids.data(), ids, off[all_experts]);
  } else {
    for (int64_t e = 0; e < all_experts; ++e)
      for (int64_t i = off[e]; i < off[e + 1]; ++i) s.send_ids.data()[i] = static_cast<int32_t>(e);
  }
  const auto send_n = counts_of(s.counts.sent, group);
  const auto recv_n = counts_of(s.counts.received, group);
  for (size_t r = 0; r < size; ++r) {
    const Range owned = ctx.mapping->experts_of_ep_rank(static_cast<int>(r));  // EP rank r's experts
    send_n[r] = off[owned.end] - off[owned.begin];
  }
  ctx.ep_host->all_to_all(send_n.data(), 1, recv_n.data(), DType::kI64, Device::kCPU);
  const int64_t recv_total = std::accumulate(recv_n.begin(), recv_n.end(), int64_t{0});
  GOSSAMER_CHECK(recv_total <= s.group_pairs, "{} received rows exceed the MoE scratch ({})", recv_total,
                 s.group_pairs);

  const auto sc_rows = counts_of(s.counts.rows, group), rc_rows = counts_of(s.counts.out, group);
  const auto sc_ids = counts_of(s.counts.ids, group), rc_ids = counts_of(s.counts.back, group);
  for (size_t r = 0; r < size; ++r) {
    sc_rows[r] = static_cast<size_t>(send_n[r] * H);
    rc_rows[r] = static_cast<size_t>(recv_n[r] * H);
    sc_ids[r] = static_cast<size_t>(send_n[r]);
    rc_ids[r] = static_cast<size_t>(recv_n[r]);
  }
  float* recv_rows = s.peer_rows.data();
  int32_t* recv_ids = s.peer_ids.data();
  ep.all_to_all_v(s.send_rows.data(), sc_rows, {}, recv_rows, rc_rows, {}, DType::kF32, dev);
  ep.all_to_all_v(s.send_ids.data(), sc_ids, {}, recv_ids, rc_ids, {}, DType::kI32, dev);

  // Each received row is one pair (k = 1 here); every one must be ours.
  const int64_t rows = run_local_pairs(ctx.exec, recv_rows, recv_ids, recv_total, 1, local, s);
  GOSSAMER_CHECK(rows == recv_total, "{} of {} rows were dispatched to the wrong rank", recv_total - rows,
                 recv_total);
  kernels::moe_unpermute(ctx.exec, s.pair_out.data(), s.expert_out.data(), s.pair_row.data(), recv_total, H);

  // The way back: the same counts, reversed, then each row to its pair's place.
  ep.all_to_all_v(s.pair_out.data(), rc_rows, {}, s.send_rows.data(), sc_rows, {}, DType::kF32, dev);
  kernels::moe_unpermute(ctx.exec, slot_out, s.send_rows.data(), s.send_pair_row.data(), n * k, H);
}

}  // namespace

void dispatch_experts(const LayerContext& ctx, const float* h, const int32_t* experts, int64_t n, int k,
                      int64_t H, const LocalExperts& local, MoeScratch& scratch, float* slot_out) {
  GOSSAMER_CHECK(ctx.ep_split(), "dispatch_experts needs a split EP group");
  if (ctx.dispatch == MoeDispatch::kAllGather)
    dispatch_allgather(ctx, h, experts, n, k, H, local, scratch, slot_out);
  else
    dispatch_alltoall(ctx, h, experts, n, k, H, local, scratch, slot_out);
}

}  // namespace gossamer::worker
