#include "worker/attention_layer.h"

#include <cmath>

#include "core/log.h"
#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/rmsnorm.h"
#include "worker/parallel_ops.h"

namespace gossamer::worker {

AttentionScratch::AttentionScratch(int64_t max_tokens, int64_t hidden, int64_t q_width, int64_t kv_width)
    : hidden_(hidden), q_width_(q_width), kv_width_(kv_width) {
  allocate(std::max<int64_t>(1, max_tokens));
}

void AttentionScratch::allocate(int64_t tokens) {
  // new float[] leaves the values uninitialised: the kernel maps pages on first touch.
  storage_.reset(new float[static_cast<size_t>(tokens * (2 * hidden_ + 2 * q_width_ + 2 * kv_width_))]);
  capacity_ = tokens;
  float* p = storage_.get();
  auto take = [&](int64_t width) {
    float* region = p;
    p += tokens * width;
    return region;
  };
  h = take(hidden_);
  o = take(hidden_);
  q = take(q_width_);
  attn = take(q_width_);
  k = take(kv_width_);
  v = take(kv_width_);
}

void AttentionScratch::fit(int64_t n) {
  if (n <= capacity_) return;
  GLOG_WARN("attention scratch: a step of {} tokens exceeds the bound of {}; growing", n, capacity_);
  allocate(n);
}

AttentionLayer::AttentionLayer(const LayerWeights& weights, int local_layer,
                               const kernels::RopeTable& rope, AttentionScratch& scratch)
    : w_(weights), local_layer_(local_layer), rope_(rope), scratch_(scratch) {}

void AttentionLayer::forward(const LayerContext& ctx, float* x, const ForwardBatch& batch,
                             KvCache& cache) {
  const auto& cfg = *ctx.config;
  const int64_t n = batch.n_tokens();
  const int64_t H = cfg.hidden_size, d = cfg.head_dim;
  const int64_t nq = w_.q.weight.out / d, nkv = w_.k.weight.out / d;  // this rank's heads
  const int layer = w_.layer;
  scratch_.fit(n);
  float *h = scratch_.h, *q = scratch_.q, *k = scratch_.k, *v = scratch_.v, *attn = scratch_.attn,
        *o = scratch_.o;

  kernels::rmsnorm(ctx.exec, h, x, w_.attn_norm.as<float>(), n, H, cfg.rms_norm_eps);
  dump(ctx.dump, "attn_norm", layer, h, n, H);
  kernels::linear(ctx.exec, q, h, n, w_.q.weight, w_.q.bias_ptr());
  kernels::linear(ctx.exec, k, h, n, w_.k.weight, w_.k.bias_ptr());
  kernels::linear(ctx.exec, v, h, n, w_.v.weight, w_.v.bias_ptr());
  kernels::rope_apply(ctx.exec, q, batch.positions.data(), n, nq, rope_);
  kernels::rope_apply(ctx.exec, k, batch.positions.data(), n, nkv, rope_);
  dump(ctx.dump, "q", layer, q, n, nq * d);
  dump(ctx.dump, "k", layer, k, n, nkv * d);
  dump(ctx.dump, "v", layer, v, n, nkv * d);

  kernels::AttentionShape shape;
  shape.n_heads = static_cast<int>(nq);
  shape.n_kv_heads = static_cast<int>(nkv);
  shape.head_dim = static_cast<int>(d);
  shape.window = cfg.is_sliding(layer) ? cfg.sliding_window : 0;
  shape.sm_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  // The whole step at once: write every sequence's new rows, then attend (the queries of a
  // chunk see its own rows).
  const auto step = cache.layer_step(local_layer_, batch);
  kernels::kv_cache_write_varlen(ctx.exec, step.kv, k, v, step.batch, shape);
  kernels::attention_varlen(ctx.exec, attn, q, step.kv, step.batch, w_.sinks.as<float>(), shape);
  dump(ctx.dump, "attn_out", layer, attn, n, nq * d);

  row_parallel_linear(ctx, o, attn, n, w_.o);
  dump(ctx.dump, "o_proj", layer, o, n, H);
  kernels::add_inplace(ctx.exec, x, o, n * H);
  dump(ctx.dump, "resid_after_attn", layer, x, n, H);
}

}  // namespace gossamer::worker
