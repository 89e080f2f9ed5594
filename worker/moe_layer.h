#pragma once
// The MoE half of a gpt-oss block (GPT-OSS.md §6):
//   h = rmsnorm(x); pick top-k experts per token from router(h); softmax over those k;
//   x += Σ_slot w_slot · expert_slot(h)      (summed in top-k order)
// Experts run grouped: each local expert sees the gathered rows of the tokens routed to it.
// With EP, tokens are dispatched to the ranks owning their experts and the k outputs are
// combined back at the token's home rank in the same slot order, so any layout sums the
// same numbers in the same order as one rank.
#include <cstdint>
#include <vector>

#include "worker/batch.h"
#include "worker/layer_context.h"
#include "worker/weights.h"

namespace gossamer::worker {

class MoeLayer {
 public:
  // first_expert: global id of weights.mlp1.per_expert[0] (EP slices the experts).
  MoeLayer(const LayerWeights& weights, int64_t first_expert);

  // x [n_tokens, H] f32, updated in place.
  void forward(const LayerContext& ctx, float* x, int64_t n_tokens);

  // The expert MLP for rows routed to one local expert:
  //   out[m, H] = mlp2( swiglu( mlp1(in[m, H]) ) ) + b2      (no routing weight)
  void run_expert(const LayerContext& ctx, int64_t local_expert, const float* in, int64_t m,
                  float* out);

 private:
  const LayerWeights& w_;
  int64_t first_expert_;
  std::vector<float> h_, logits_, weights_, slot_out_, gathered_, up_, act_, expert_out_, sum_;
  std::vector<int32_t> experts_;
};

}  // namespace gossamer::worker
