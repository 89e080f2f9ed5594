#include "worker/attention_layer.h"

#include <cmath>

#include "kernels/attention.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/rmsnorm.h"
#include "worker/parallel_ops.h"

namespace gossamer::worker {

AttentionLayer::AttentionLayer(const LayerWeights& weights, int local_layer,
                               const kernels::RopeTable& rope)
    : w_(weights), local_layer_(local_layer), rope_(rope) {}

void AttentionLayer::forward(const LayerContext& ctx, float* x, const ForwardBatch& batch,
                             KvCache& cache) {
  const auto& cfg = *ctx.config;
  const int64_t n = batch.n_tokens();
  const int64_t H = cfg.hidden_size, d = cfg.head_dim;
  const int64_t nq = w_.q.weight.out / d, nkv = w_.k.weight.out / d;  // this rank's heads
  const int layer = w_.layer;
  h_.resize(static_cast<size_t>(n * H));
  q_.resize(static_cast<size_t>(n * nq * d));
  k_.resize(static_cast<size_t>(n * nkv * d));
  v_.resize(static_cast<size_t>(n * nkv * d));
  attn_.resize(static_cast<size_t>(n * nq * d));
  o_.resize(static_cast<size_t>(n * H));

  kernels::rmsnorm(ctx.exec, h_.data(), x, w_.attn_norm.as<float>(), n, H, cfg.rms_norm_eps);
  dump(ctx.dump, "attn_norm", layer, h_.data(), n, H);
  kernels::linear(ctx.exec, q_.data(), h_.data(), n, w_.q.weight, w_.q.bias_ptr());
  kernels::linear(ctx.exec, k_.data(), h_.data(), n, w_.k.weight, w_.k.bias_ptr());
  kernels::linear(ctx.exec, v_.data(), h_.data(), n, w_.v.weight, w_.v.bias_ptr());
  kernels::rope_apply(ctx.exec, q_.data(), batch.positions.data(), n, nq, rope_);
  kernels::rope_apply(ctx.exec, k_.data(), batch.positions.data(), n, nkv, rope_);
  dump(ctx.dump, "q", layer, q_.data(), n, nq * d);
  dump(ctx.dump, "k", layer, k_.data(), n, nkv * d);
  dump(ctx.dump, "v", layer, v_.data(), n, nkv * d);

  kernels::AttentionShape shape;
  shape.n_heads = static_cast<int>(nq);
  shape.n_kv_heads = static_cast<int>(nkv);
  shape.head_dim = static_cast<int>(d);
  shape.window = cfg.is_sliding(layer) ? cfg.sliding_window : 0;
  shape.sm_scale = static_cast<float>(1.0 / std::sqrt(static_cast<double>(d)));
  for (const auto& s : batch.seqs) {
    auto kv = cache.view(local_layer_, s);
    const int64_t off = s.first;
    kernels::kv_cache_write(ctx.exec, kv, k_.data() + off * nkv * d, v_.data() + off * nkv * d,
                            batch.positions.data() + off, s.count, shape);
    kernels::attention_sink(ctx.exec, attn_.data() + off * nq * d, q_.data() + off * nq * d,
                            batch.positions.data() + off, s.count, kv, w_.sinks.as<float>(),
                            shape);
  }
  dump(ctx.dump, "attn_out", layer, attn_.data(), n, nq * d);

  row_parallel_linear(ctx, o_.data(), attn_.data(), n, w_.o);
  dump(ctx.dump, "o_proj", layer, o_.data(), n, H);
  kernels::add_inplace(ctx.exec, x, o_.data(), n * H);
  dump(ctx.dump, "resid_after_attn", layer, x, n, H);
}

}  // namespace gossamer::worker
