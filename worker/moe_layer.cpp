#include "worker/moe_layer.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "kernels/elementwise.h"
#include "kernels/linear.h"
#include "kernels/mxfp4_linear.h"
#include "kernels/rmsnorm.h"
#include "kernels/router.h"
#include "kernels/swiglu.h"

namespace gossamer::worker {

MoeLayer::MoeLayer(const LayerWeights& weights) : w_(weights) {}

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
  logits_.resize(static_cast<size_t>(n * E));
  experts_.resize(static_cast<size_t>(n * k));
  weights_.resize(static_cast<size_t>(n * k));
  slot_out_.assign(static_cast<size_t>(n * k * H), 0.0f);  // [n, k, H] each slot's y

  kernels::rmsnorm(ctx.exec, h_.data(), x, w_.mlp_norm.as<float>(), n, H, cfg.rms_norm_eps);
  dump(ctx.dump, "mlp_norm", layer, h_.data(), n, H);
  kernels::linear(ctx.exec, logits_.data(), h_.data(), n, w_.router.weight, w_.router.bias_ptr());
  dump(ctx.dump, "router_logits", layer, logits_.data(), n, E);
  kernels::router_topk_softmax(ctx.exec, logits_.data(), n, E, k, experts_.data(), weights_.data());

  // Group (token, slot) pairs by expert, in token order, so each expert runs once.
  // TODO(distributed): with ctx.ep, pairs of remote experts are dispatched to their owners.
  const int64_t first_expert = 0;
  const int64_t local_experts = static_cast<int64_t>(w_.mlp1.per_expert.size());
  GOSSAMER_CHECK(local_experts == E, "expert parallelism is not wired yet");
  std::vector<std::vector<int64_t>> routed(static_cast<size_t>(local_experts));
  for (int64_t i = 0; i < n * k; ++i) {
    int64_t e = experts_[static_cast<size_t>(i)] - first_expert;
    routed[static_cast<size_t>(e)].push_back(i);
  }
  for (int64_t e = 0; e < local_experts; ++e) {
    const auto& pairs = routed[static_cast<size_t>(e)];
    const auto m = static_cast<int64_t>(pairs.size());
    if (m == 0) continue;
    gathered_.resize(static_cast<size_t>(m * H));
    expert_out_.resize(static_cast<size_t>(m * H));
    for (int64_t r = 0; r < m; ++r) {
      const int64_t token = pairs[static_cast<size_t>(r)] / k;
      std::memcpy(gathered_.data() + r * H, h_.data() + token * H, sizeof(float) * H);
    }
    run_expert(ctx, e, gathered_.data(), m, expert_out_.data());
    for (int64_t r = 0; r < m; ++r)
      std::memcpy(slot_out_.data() + pairs[static_cast<size_t>(r)] * H, expert_out_.data() + r * H,
                  sizeof(float) * H);
  }

  // Combine in slot order (the order every layout uses).
  sum_.assign(static_cast<size_t>(n * H), 0.0f);
  for (int64_t t = 0; t < n; ++t)
    for (int s = 0; s < k; ++s)
      kernels::axpy(ctx.exec, sum_.data() + t * H, weights_[static_cast<size_t>(t * k + s)],
                    slot_out_.data() + (t * k + s) * H, H);
  dump(ctx.dump, "moe_out", layer, sum_.data(), n, H);
  kernels::add_inplace(ctx.exec, x, sum_.data(), n * H);
  dump(ctx.dump, "resid_after_mlp", layer, x, n, H);
}

}  // namespace gossamer::worker
