#pragma once
// The attention half of a gpt-oss block, for this rank's heads:
//   x += o_proj( attention_sinks( rope(q), rope(k), v ) ),  q/k/v = proj(rmsnorm(x))
// q/k/v are column-parallel (this rank's heads), o_proj row-parallel (its bias is added
// on one rank, the partial sums all-reduced over TP when heads are split). Attention is
// one batched call per layer over every sequence of the step (kernels/attention.h).
#include <cstdint>
#include <memory>

#include "kernels/rope.h"
#include "worker/batch.h"
#include "worker/kv_cache.h"
#include "worker/layer_context.h"
#include "worker/weights.h"

namespace gossamer::worker {

// The activations of an attention layer for one step: h, o [n, hidden], q, attn [n, q_width],
// k, v [n, kv_width]. Layers run one after another, so all of a rank's layers share one.
// Allocated once for max_tokens; its pages are left untouched until a step uses them, so
// a generous bound costs address space, not memory.
class AttentionScratch {
 public:
  AttentionScratch(int64_t max_tokens, int64_t hidden, int64_t q_width, int64_t kv_width);
  // Room for n tokens: nothing to do up to the bound; beyond it (a caller that broke its
  // own bound) the storage grows once, with a warning.
  void fit(int64_t n);
  int64_t capacity() const { return capacity_; }

  float *h = nullptr, *q = nullptr, *k = nullptr, *v = nullptr, *attn = nullptr, *o = nullptr;

 private:
  void allocate(int64_t tokens);
  int64_t hidden_, q_width_, kv_width_, capacity_ = 0;
  std::unique_ptr<float[]> storage_;
};

class AttentionLayer {
 public:
  // local_layer indexes the KV cache; rope and scratch are shared by all layers.
  AttentionLayer(const LayerWeights& weights, int local_layer, const kernels::RopeTable& rope,
                 AttentionScratch& scratch);

  // x [n_tokens, H] f32, updated in place.
  void forward(const LayerContext& ctx, float* x, const ForwardBatch& batch, KvCache& cache);

 private:
  const LayerWeights& w_;
  int local_layer_;
  const kernels::RopeTable& rope_;
  AttentionScratch& scratch_;
};

}  // namespace gossamer::worker
