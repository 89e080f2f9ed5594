#pragma once
// The attention half of a gpt-oss block, for this rank's heads:
//   x += o_proj( attention_sinks( rope(q), rope(k), v ) ),  q/k/v = proj(rmsnorm(x))
// q/k/v are column-parallel (this rank's heads), o_proj row-parallel (its bias is added
// on one rank, the partial sums all-reduced over TP when heads are split).
#include <vector>

#include "kernels/rope.h"
#include "worker/batch.h"
#include "worker/kv_cache.h"
#include "worker/layer_context.h"
#include "worker/weights.h"

namespace gossamer::worker {

class AttentionLayer {
 public:
  // local_layer indexes the KV cache; rope is shared by all layers.
  AttentionLayer(const LayerWeights& weights, int local_layer, const kernels::RopeTable& rope);

  // x [n_tokens, H] f32, updated in place.
  void forward(const LayerContext& ctx, float* x, const ForwardBatch& batch, KvCache& cache);

 private:
  const LayerWeights& w_;
  int local_layer_;
  const kernels::RopeTable& rope_;
  // Scratch reused across steps: [n, H], [n, nq*d], [n, nkv*d] x2, [n, nq*d], [n, H]
  std::vector<float> h_, q_, k_, v_, attn_, o_;
};

}  // namespace gossamer::worker
