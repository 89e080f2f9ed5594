#include "worker/moe_layer.h"

#include "comm/communicator.h"
#include "core/error.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/moe_combine.h"
#include "kernels/rmsnorm.h"
#include "kernels/router.h"
#include "worker/parallel_ops.h"

namespace gossamer::worker {

MoeLayer::MoeLayer(const LayerWeights& weights, int64_t first_expert, const model::ModelConfig& config,
                   MoeScratch& scratch)
    : w_(weights), s_(scratch) {
  experts_.first_expert = first_expert;
  experts_.count = static_cast<int64_t>(w_.mlp1.per_expert.size());
  experts_.mlp1 = w_.mlp1.per_expert.data();
  experts_.mlp1_bias = experts_.count ? w_.mlp1.bias_of(0) : nullptr;
  experts_.mlp2 = w_.mlp2.per_expert.data();
  experts_.mlp2_bias = experts_.count ? w_.mlp2.bias_of(0) : nullptr;
  experts_.swiglu_alpha = config.swiglu_alpha;
  experts_.swiglu_limit = config.swiglu_limit;
}

void MoeLayer::forward(const LayerContext& ctx, float* x, int64_t n) {
  const auto& cfg = *ctx.config;
  const int64_t H = cfg.hidden_size;
  const int E = cfg.num_local_experts, k = cfg.num_experts_per_tok;
  const int layer = w_.layer;
  GOSSAMER_CHECK(n <= s_.max_tokens, "MoE layer: {} tokens in one step, sized for {} (max_step_tokens)", n,
                 s_.max_tokens);
  float* h = s_.h.data();
  kernels::rmsnorm(ctx.exec, h, x, w_.mlp_norm.as<float>(), n, H, cfg.rms_norm_eps);
  dump(ctx.dump, "mlp_norm", layer, h, n, H);

  // With heads split, the TP ranks hold the same n tokens; each routes and combines only
  // its share, and the shares are all-gathered at the end (no work done twice).
  // When the EP group is the TP group, every rank routes all n tokens instead (the router
  // is E x H per token, cheap) and no tokens move: see below.
  const bool local_dispatch = ctx.ep_spans_tp && ctx.ep_split();
  const auto share = local_dispatch ? Range{0, n} : tp_token_share(ctx, n);
  const int64_t ns = share.size();
  const float* hs = h + share.begin * H;
  float* logits = s_.logits.data();
  int32_t* experts = s_.experts.data();
  float* weights = s_.weights.data();
  kernels::linear(ctx.exec, logits, hs, ns, w_.router.weight, w_.router.bias_ptr());
  dump(ctx.dump, "router_logits", layer, logits, ns, E);
  kernels::router_topk_softmax(ctx.exec, logits, ns, E, k, experts, weights);

  float* mine = s_.sum.data() + share.begin * H;
  if (!ctx.ep_split()) {
    // Every expert is here: combine straight from the expert rows (no per-slot copy).
    run_local_pairs(ctx.exec, hs, experts, ns, k, experts_, s_);
    kernels::moe_combine(ctx.exec, mine, s_.expert_out.data(), s_.pair_row.data(), weights, ns, k, H);
  } else {
    float* slot_out = s_.slot_out.data();  // [ns, k, H] each slot's unweighted output
    if (local_dispatch) {
      // Every rank already holds every token: run this rank's experts on their pairs (the
      // other pairs stay zero), then one all-reduce of [n, k, H]. Exactly one rank
      // contributes a non-zero row per pair (x + 0 = x), so each slot's output is exact and
      // the combine below adds the same numbers in the same order as one rank. One
      // collective per layer instead of five (counts, rows, ids, reduce-scatter, shares).
      run_local_pairs(ctx.exec, hs, experts, ns, k, experts_, s_);
      kernels::moe_unpermute(ctx.exec, slot_out, s_.expert_out.data(), s_.pair_row.data(), ns * k, H);
      ctx.ep->all_reduce_sum(slot_out, static_cast<size_t>(ns * k * H), ctx.exec.device);
    } else {
      dispatch_experts(ctx, hs, experts, ns, k, H, experts_, s_, slot_out);
    }
    kernels::moe_combine(ctx.exec, mine, slot_out, nullptr, weights, ns, k, H);
  }
  if (!local_dispatch) gather_token_shares(ctx, s_.sum.data(), n, H);
  dump(ctx.dump, "moe_out", layer, s_.sum.data(), n, H);
  kernels::add_inplace(ctx.exec, x, s_.sum.data(), n * H);
  dump(ctx.dump, "resid_after_mlp", layer, x, n, H);
}

}  // namespace gossamer::worker
