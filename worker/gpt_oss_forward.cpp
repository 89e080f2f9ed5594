// The gpt-oss forward pass of one rank, top to bottom (docs/MODEL.md):
//
//   x = embedding[tokens]                                  (first stage; else from the previous)
//   for each layer of this stage:
//     attention block: x += o_proj(attention_sinks(rope(q), rope(k), v)),  q,k,v = proj(rmsnorm(x))
//     MoE block:       x += Σ_slot w_slot · expert_slot(rmsnorm(x))         (top-k, slot order)
//   logits = unembedding(rmsnorm(x[wanted rows]))          (last stage; else x goes to the next)
//
// Every op is one batched kernel call for the whole step (kernels/), every buffer comes from
// the rank's Workspace, and the named intermediates go to the dump sink (eval-logits --dump)
// under the names the golden data uses. Who owns which heads, experts, vocab rows and stages
// is the Mapping's answer (ctx.mapping); the collectives are at the marked points:
//   * o_proj: row-parallel, partial sums all-reduced over TP (worker/parallel_ops.h);
//   * MoE: each TP rank routes its share of the tokens; with EP the (token, slot) pairs
//     travel to the ranks owning their experts and back (worker/expert_dispatch.h);
//   * stages: hidden states sent to the next stage, received from the previous.
#include "worker/gpt_oss_forward.h"

#include <cmath>
#include <cstring>

#include "comm/communicator.h"
#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/moe_combine.h"
#include "kernels/rmsnorm.h"
#include "kernels/router.h"
#include "worker/mapping.h"
#include "worker/parallel_ops.h"

namespace gossamer::worker {

kernels::RopeParams rope_params_from(const model::ModelConfig& c) {
  kernels::RopeParams p;
  p.head_dim = c.head_dim;
  p.theta = c.rope_theta;
  p.factor = c.rope_scaling.factor;
  p.beta_fast = c.rope_scaling.beta_fast;
  p.beta_slow = c.rope_scaling.beta_slow;
  p.original_context = static_cast<double>(c.rope_scaling.original_max_position_embeddings);
  p.truncate = c.rope_scaling.truncate;
  return p;
}

namespace {

// Every layer holds the same slice of heads on a rank, so the first layer's sizes the
// attention workspace (no layers: an empty pipeline stage is not a layout Mapping allows).
int64_t q_width(const ModelWeights& w) { return w.layers.empty() ? 0 : w.layers.front().q.weight.out; }
int64_t kv_width(const ModelWeights& w) { return w.layers.empty() ? 0 : w.layers.front().k.weight.out; }

LocalExperts local_experts(const LayerWeights& w, int64_t first_expert, const model::ModelConfig& c) {
  LocalExperts e;
  e.first_expert = first_expert;
  e.count = static_cast<int64_t>(w.mlp1.per_expert.size());
  e.mlp1 = w.mlp1.per_expert.data();
  e.mlp1_bias = e.count ? w.mlp1.bias_of(0) : nullptr;
  e.mlp2 = w.mlp2.per_expert.data();
  e.mlp2_bias = e.count ? w.mlp2.bias_of(0) : nullptr;
  e.swiglu_alpha = c.swiglu_alpha;
  e.swiglu_limit = c.swiglu_limit;
  return e;
}

}  // namespace

GptOssForward::GptOssForward(const ModelWeights& weights, KvCache& cache, LayerContext base,
                             int64_t max_step_tokens)
    : weights_(weights),
      cache_(cache),
      base_(base),
      rope_(kernels::RopeTable::build(rope_params_from(weights.config))),
      ws_(weights.config, max_step_tokens, q_width(weights), kv_width(weights), base.ep ? base.ep->size() : 1,
          base.exec.device, base.tp ? base.tp->size() : 1) {
  GOSSAMER_CHECK(base_.mapping != nullptr, "the forward pass needs the rank's Mapping");
  base_.config = &weights_.config;
  for (const auto& layer : weights_.layers)
    experts_.push_back(local_experts(layer, weights_.selection.experts.begin, weights_.config));
}

size_t GptOssForward::workspace_bytes(const ModelWeights& weights, int64_t max_step_tokens, int ep_size) {
  return Workspace(weights.config, max_step_tokens, q_width(weights), kv_width(weights), ep_size, Device::kCPU).bytes();
}

const float* GptOssForward::forward(const ForwardBatch& batch, DumpSink* dump_sink) {
  const auto& cfg = weights_.config;
  const int64_t n = batch.n_tokens(), H = cfg.hidden_size;
  ws_.check_fits(n);
  for (int32_t t : batch.tokens)
    if (t < 0 || t >= cfg.vocab_size)
      GOSSAMER_THROW(kInvalidArgument, "token id {} outside the vocabulary [0, {})", t, cfg.vocab_size);
  LayerContext ctx = base_;
  ctx.dump = dump_sink;
  if (dump_sink) dump_sink->set_source(ctx.exec.device, ctx.exec.stream);
  const Mapping& map = *ctx.mapping;
  float* x = ws_.x.data();
  // The step's index arrays where the kernels read them: the batch itself on the CPU, one
  // packed upload on a GPU.
  arrays_ = ctx.exec.device == Device::kCPU ? host_step_arrays(batch)
                                            : device_arrays_.upload(batch, ctx.exec.stream);

  // Embedding, or the same tokens' hidden states from the previous stage.
  if (map.is_first_stage()) {
    kernels::embedding_lookup(ctx.exec, x, weights_.embedding, arrays_.tokens, n);
    dump(dump_sink, "embedding", kNoLayer, x, n, H);
  } else {
    ctx.pp->recv(x, static_cast<size_t>(n * H), DType::kF32, map.prev_stage_in_pp_group(), kStageTag,
                 ctx.exec.device);
  }

  for (size_t layer = 0; layer < weights_.layers.size(); ++layer) {
    attention_block(ctx, layer, batch);
    moe_block(ctx, layer, n);
  }

  if (!map.is_last_stage()) {
    ctx.pp->send(x, static_cast<size_t>(n * H), DType::kF32, map.next_stage_in_pp_group(), kStageTag,
                 ctx.exec.device);
    return nullptr;
  }

  // Only the wanted rows go through the final norm and the (large) unembedding.
  const auto m = static_cast<int64_t>(batch.logit_rows.size());
  float* rows = ws_.rows.data();
  float* normed = ws_.normed.data();
  if (ctx.exec.device == Device::kCPU) {
    for (int64_t r = 0; r < m; ++r)
      std::memcpy(rows + r * H, x + batch.logit_rows[static_cast<size_t>(r)] * H, sizeof(float) * H);
  } else {
    // The same row gather on the device: x is an f32 "table" of n rows.
    const kernels::DenseWeight x_rows{x, DType::kF32, n, H, 0};
    kernels::embedding_lookup(ctx.exec, rows, x_rows, arrays_.logit_rows, m);
  }
  kernels::rmsnorm(ctx.exec, normed, rows, weights_.final_norm.as<float>(), m, H, cfg.rms_norm_eps);
  dump(dump_sink, "final_norm", kNoLayer, normed, m, H);
  const int64_t V = vocab_local();
  float* logits = ws_.logits_for(static_cast<size_t>(m * V));
  kernels::linear(ctx.exec, logits, normed, m, weights_.unembedding, nullptr);
  dump(dump_sink, "logits", kNoLayer, logits, m, V);
  return logits;
}

// x += o_proj(attention(q, k, v)) for this rank's heads: q/k/v are column-parallel (this
// rank's heads), o_proj row-parallel (partial sums all-reduced over TP, bias once). The
// step's new k/v rows go into the paged cache first, so a chunk's queries see them.
void GptOssForward::attention_block(const LayerContext& ctx, size_t layer_index, const ForwardBatch& batch) {
  const auto& cfg = *ctx.config;
  const LayerWeights& w = weights_.layers[layer_index];
  const int64_t n = batch.n_tokens(), H = cfg.hidden_size, d = cfg.head_dim;
  const int64_t nq = w.q.weight.out / d, nkv = w.k.weight.out / d;
  const int layer = w.layer;
  AttentionScratch& s = ws_.attention;
  float *x = ws_.x.data(), *h = s.h.data(), *q = s.q.data(), *k = s.k.data(), *v = s.v.data();
  float *attn = s.attn.data(), *o = s.o.data();

  kernels::rmsnorm(ctx.exec, h, x, w.attn_norm.as<float>(), n, H, cfg.rms_norm_eps);
  dump(ctx.dump, "attn_norm", layer, h, n, H);
  kernels::linear(ctx.exec, q, h, n, w.q.weight, w.q.bias_ptr());
  kernels::linear(ctx.exec, k, h, n, w.k.weight, w.k.bias_ptr());
  kernels::linear(ctx.exec, v, h, n, w.v.weight, w.v.bias_ptr());
  kernels::rope_apply(ctx.exec, q, arrays_.positions, n, nq, rope_);
  kernels::rope_apply(ctx.exec, k, arrays_.positions, n, nkv, rope_);
  dump(ctx.dump, "q", layer, q, n, nq * d);
  dump(ctx.dump, "k", layer, k, n, nkv * d);
  dump(ctx.dump, "v", layer, v, n, nkv * d);

  kernels::AttentionShape shape;
  shape.n_heads = static_cast<int>(nq);
  shape.n_kv_heads = static_cast<int>(nkv);
  shape.head_dim = static_cast<int>(d);
  shape.window = cfg.is_sliding(layer) ? cfg.sliding_window : 0;  // alternate layers
  shape.sm_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  const auto step = cache_.layer_step(static_cast<int>(layer_index), batch, arrays_);
  kernels::kv_cache_write_varlen(ctx.exec, step.kv, k, v, step.batch, shape);
  kernels::attention_varlen(ctx.exec, attn, q, step.kv, step.batch, w.sinks.as<float>(), shape);
  dump(ctx.dump, "attn_out", layer, attn, n, nq * d);

  row_parallel_linear(ctx, o, attn, n, w.o);
  dump(ctx.dump, "o_proj", layer, o, n, H);
  kernels::add_inplace(ctx.exec, x, o, n * H);
  dump(ctx.dump, "resid_after_attn", layer, x, n, H);
}

// x += Σ_slot w_slot · expert_slot(rmsnorm(x)): the router picks k experts per token and
// softmaxes over those k; the (token, slot) pairs are permuted into expert-contiguous rows,
// run through the grouped expert GEMMs (SwiGLU fused) and summed back in slot order, so
// every layout adds the same numbers in the same order as one rank.
void GptOssForward::moe_block(const LayerContext& ctx, size_t layer_index, int64_t n) {
  const auto& cfg = *ctx.config;
  const LayerWeights& w = weights_.layers[layer_index];
  const int64_t H = cfg.hidden_size;
  const int E = cfg.num_local_experts, k = cfg.num_experts_per_tok;
  const int layer = w.layer;
  MoeScratch& s = ws_.moe;
  float* x = ws_.x.data();
  float* h = s.h.data();
  kernels::rmsnorm(ctx.exec, h, x, w.mlp_norm.as<float>(), n, H, cfg.rms_norm_eps);
  dump(ctx.dump, "mlp_norm", layer, h, n, H);

  // With heads split, the TP ranks hold the same n tokens; each routes and combines only
  // its share, and the shares are all-gathered at the end (no work done twice). When the
  // EP group is the TP group, every rank routes all n tokens instead (the router is E x H
  // per token, cheap) and no tokens move: see below.
  const bool local_dispatch = ctx.ep_spans_tp && ctx.ep_split();
  const auto share = local_dispatch ? Range{0, n} : ctx.mapping->token_share(n);
  const int64_t ns = share.size();
  const float* hs = h + share.begin * H;
  float *logits = s.logits.data(), *weights = s.weights.data();
  int32_t* experts = s.experts.data();
  // The router stays exact in fast mode: its output is a discrete top-k choice, where a
  // bf16-rounded x could flip near-tied experts, and its 32 x 2880 weights cost next to
  // nothing either way.
  kernels::Exec router_exec = ctx.exec;
  router_exec.precision = kernels::Precision::kExact;
  kernels::linear(router_exec, logits, hs, ns, w.router.weight, w.router.bias_ptr());
  dump(ctx.dump, "router_logits", layer, logits, ns, E);
  kernels::router_topk_softmax(ctx.exec, logits, ns, E, k, experts, weights);

  const LocalExperts& local = experts_[layer_index];
  float* mine = s.sum.data() + share.begin * H;
  if (!ctx.ep_split()) {
    // Every expert is here: combine straight from the expert rows (no per-slot copy).
    run_local_pairs(ctx.exec, hs, experts, ns, k, local, s);
    kernels::moe_combine(ctx.exec, mine, s.expert_out.data(), s.pair_row.data(), weights, ns, k, H);
  } else {
    float* slot_out = s.slot_out.data();  // [ns, k, H] each slot's unweighted output
    if (local_dispatch) {
      // Every rank already holds every token: run this rank's experts on their pairs (the
      // other pairs stay zero), then one all-reduce of [n, k, H]. Exactly one rank
      // contributes a non-zero row per pair (x + 0 = x), so each slot's output is exact.
      run_local_pairs(ctx.exec, hs, experts, ns, k, local, s);
      kernels::moe_unpermute(ctx.exec, slot_out, s.expert_out.data(), s.pair_row.data(), ns * k, H);
      ctx.ep->all_reduce_sum(slot_out, static_cast<size_t>(ns * k * H), ctx.exec.device);
    } else {
      dispatch_experts(ctx, hs, experts, ns, k, H, local, s, slot_out);
    }
    kernels::moe_combine(ctx.exec, mine, slot_out, nullptr, weights, ns, k, H);
  }
  if (!local_dispatch) gather_token_shares(ctx, s.sum.data(), n, H, s.share_send.data(), s.counts);
  dump(ctx.dump, "moe_out", layer, s.sum.data(), n, H);
  kernels::add_inplace(ctx.exec, x, s.sum.data(), n * H);
  dump(ctx.dump, "resid_after_mlp", layer, x, n, H);
}

}  // namespace gossamer::worker
