#pragma once
// One rank's forward pass: embedding → its layers (attention + MoE each) → final norm →
// its vocab slice of the logits, for the rows the batch asks for. The model is a
// composition of layers; parallelism lives inside them (LayerContext), not here.
#include <memory>
#include <vector>

#include "kernels/rope.h"
#include "worker/attention_layer.h"
#include "worker/batch.h"
#include "worker/kv_cache.h"
#include "worker/layer_context.h"
#include "worker/moe_layer.h"
#include "worker/weights.h"

namespace gossamer::worker {

kernels::RopeParams rope_params_from(const model::ModelConfig& config);

// Tag of the hidden-state messages between pipeline stages.
constexpr int kStageTag = 7;

class ModelRunner {
 public:
  // max_step_tokens: the most tokens one forward() gets (sizes the attention and MoE scratch
  // once).
  ModelRunner(const ModelWeights& weights, KvCache& cache, LayerContext base, int64_t max_step_tokens);
  const LayerContext& context() const { return base_; }

  // Runs this rank's layers over the batch. On the last pipeline stage (or without PP)
  // fills logits [batch.logit_rows().size(), vocab_local] f32 and returns true; earlier
  // stages send their hidden states on and return false. `dump` may be null.
  bool forward(const ForwardBatch& batch, std::vector<float>& logits, DumpSink* dump = nullptr);

  const ModelWeights& weights() const { return weights_; }
  int64_t vocab_local() const { return weights_.unembedding.out; }

 private:
  const ModelWeights& weights_;
  KvCache& cache_;
  LayerContext base_;
  kernels::RopeTable rope_;
  std::unique_ptr<AttentionScratch> attention_scratch_;  // shared by the attention layers
  std::vector<std::unique_ptr<AttentionLayer>> attention_;
  std::unique_ptr<MoeScratch> moe_scratch_;  // shared by every MoE layer
  std::vector<std::unique_ptr<MoeLayer>> moe_;
  std::vector<float> x_, rows_, normed_;
};

}  // namespace gossamer::worker
