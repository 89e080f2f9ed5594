#pragma once
// The MoE half of a gpt-oss block:
//   h = rmsnorm(x); pick top-k experts per token from router(h); softmax over those k;
//   x += Σ_slot w_slot · expert_slot(h)      (summed in top-k order)
// One batched kernel call per stage: route, permute the (token, slot) pairs into
// expert-contiguous rows, the grouped expert GEMMs (SwiGLU fused into the first), and the
// combine back to token order. With EP, tokens are dispatched to the ranks owning their
// experts and the k outputs come back to the token's home rank, combined in the same slot
// order, so any layout sums the same numbers in the same order as one rank.
#include <cstdint>
#include <vector>

#include "worker/expert_dispatch.h"
#include "worker/layer_context.h"
#include "worker/moe_scratch.h"
#include "worker/weights.h"

namespace gossamer::worker {

class MoeLayer {
 public:
  // first_expert: global id of weights.mlp1.per_expert[0] (EP slices the experts).
  // scratch: shared by the rank's MoE layers, sized for the largest step.
  MoeLayer(const LayerWeights& weights, int64_t first_expert, const model::ModelConfig& config,
           MoeScratch& scratch);

  // x [n_tokens, H] f32, updated in place. n_tokens <= scratch.max_tokens.
  void forward(const LayerContext& ctx, float* x, int64_t n_tokens);

 private:
  const LayerWeights& w_;
  LocalExperts experts_;
  MoeScratch& s_;
};

}  // namespace gossamer::worker
