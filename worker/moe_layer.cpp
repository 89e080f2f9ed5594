#include "worker/moe_layer.h"

#include <algorithm>
#include <cstring>

#include "comm/communicator.h"
#include "core/error.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/mxfp4_linear.h"
#include "kernels/rmsnorm.h"
#include "kernels/router.h"
#include "kernels/swiglu.h"
#include "worker/expert_dispatch.h"
#include "worker/parallel_ops.h"

namespace gossamer::worker {

MoeLayer::MoeLayer(const LayerWeights& weights, int64_t first_expert)
    : w_(weights), first_expert_(first_expert) {}

void MoeLayer::run_expert(const LayerContext& ctx, int64_t local_expert, const float* in,
                          int64_t m, float* out) {
  const auto& cfg = *ctx.config;
  const int64_t I = cfg.intermediate_size;
  const auto e = static_cast<size_t>(local_expert);
  up_.resize(static_cast<size_t>(m * 2 * I));
  act_.resize(static_cast<size_t>(m * I));
  kernels::mxfp4_linear(ctx.exec, up_.data(), in, m, w_.mlp1.per_expert[e],
                        w_.mlp1.bias_of(local_expert));
  kernels::swiglu_clamped(ctx.exec, act_.data(), up_.data(), m, I, cfg.swiglu_alpha,
                          cfg.swiglu_limit);
  kernels::mxfp4_linear(ctx.exec, out, act_.data(), m, w_.mlp2.per_expert[e],
                        w_.mlp2.bias_of(local_expert));
}

void MoeLayer::forward(const LayerContext& ctx, float* x, int64_t n) {
  const auto& cfg = *ctx.config;
  const int64_t H = cfg.hidden_size;
  const int E = cfg.num_local_experts, k = cfg.num_experts_per_tok;
  const int layer = w_.layer;
  h_.resize(static_cast<size_t>(n * H));
  kernels::rmsnorm(ctx.exec, h_.data(), x, w_.mlp_norm.as<float>(), n, H, cfg.rms_norm_eps);
  dump(ctx.dump, "mlp_norm", layer, h_.data(), n, H);

  // With heads split, the TP ranks hold the same n tokens; each routes and combines only
  // its share, and the shares are all-gathered at the end (no work done twice).
  // When the EP group is the TP group, every rank routes all n tokens instead (the router
  // is E x H per token, cheap) and no tokens move: see below.
  const bool local_dispatch = ctx.ep_spans_tp && ctx.ep_split();
  const auto share = local_dispatch ? Range{0, n} : tp_token_share(ctx, n);
  const int64_t ns = share.size();
  const float* hs = h_.data() + share.begin * H;
  logits_.resize(static_cast<size_t>(ns * E));
  experts_.resize(static_cast<size_t>(ns * k));
  weights_.resize(static_cast<size_t>(ns * k));
  slot_out_.assign(static_cast<size_t>(ns * k * H), 0.0f);  // [ns, k, H] each slot's y
  kernels::linear(ctx.exec, logits_.data(), hs, ns, w_.router.weight, w_.router.bias_ptr());
  dump(ctx.dump, "router_logits", layer, logits_.data(), ns, E);
  kernels::router_topk_softmax(ctx.exec, logits_.data(), ns, E, k, experts_.data(), weights_.data());

  ExpertPlacement placement;
  placement.first_expert = first_expert_;
  placement.local_experts = static_cast<int64_t>(w_.mlp1.per_expert.size());
  const ExpertFn fn = [&](int64_t e, const float* in, int64_t m, float* out) { run_expert(ctx, e, in, m, out); };
  if (local_dispatch) {
    // Every rank already holds every token: run this rank's experts on their pairs (the
    // other pairs stay zero), then one all-reduce of [n, k, H]. Exactly one rank
    // contributes a non-zero row per pair (x + 0 = x), so each slot's output is exact and
    // the combine below adds the same numbers in the same order as one rank. One
    // collective per layer instead of five (counts, rows, ids, reduce-scatter, shares).
    LayerContext solo = ctx;
    solo.ep = nullptr;
    run_experts(solo, hs, experts_.data(), ns, k, H, placement, fn, slot_out_.data());
    ctx.ep->all_reduce_sum(slot_out_.data(), static_cast<size_t>(ns * k * H), ctx.exec.device);
  } else {
    run_experts(ctx, hs, experts_.data(), ns, k, H, placement, fn, slot_out_.data());
  }

  // Combine in slot order (the order every layout uses).
  sum_.assign(static_cast<size_t>(n * H), 0.0f);
  float* mine = sum_.data() + share.begin * H;
  for (int64_t t = 0; t < ns; ++t)
    for (int s = 0; s < k; ++s)
      kernels::axpy(ctx.exec, mine + t * H, weights_[static_cast<size_t>(t * k + s)],
                    slot_out_.data() + (t * k + s) * H, H);
  if (!local_dispatch) gather_token_shares(ctx, sum_.data(), n, H);
  dump(ctx.dump, "moe_out", layer, sum_.data(), n, H);
  kernels::add_inplace(ctx.exec, x, sum_.data(), n * H);
  dump(ctx.dump, "resid_after_mlp", layer, x, n, H);
}

}  // namespace gossamer::worker
