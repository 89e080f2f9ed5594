#pragma once
// One rank's gpt-oss forward pass (worker/gpt_oss_forward.cpp reads top to bottom, in the
// order of the model: embedding -> per layer the attention block and the MoE block ->
// final norm -> unembedding; docs/MODEL.md has the math). Parallelism lives in the
// LayerContext (process groups, Mapping), buffers in the rank's Workspace.
#include <cstdint>
#include <vector>

#include "kernels/rope.h"
#include "worker/batch.h"
#include "worker/expert_dispatch.h"
#include "worker/kv_cache.h"
#include "worker/layer_context.h"
#include "worker/step_arrays.h"
#include "worker/weights.h"
#include "worker/workspace.h"

namespace gossamer::worker {

kernels::RopeParams rope_params_from(const model::ModelConfig& config);

// Tag of the hidden-state messages between pipeline stages.
constexpr int kStageTag = 7;

class GptOssForward {
 public:
  // max_step_tokens: the most tokens one forward() gets (sizes the workspace once).
  GptOssForward(const ModelWeights& weights, KvCache& cache, LayerContext base, int64_t max_step_tokens);
  const LayerContext& context() const { return base_; }
  // Bytes the workspace of GptOssForward(weights, ..., max_step_tokens) with an EP group
  // of ep_size takes on its device (measured on an untouched host copy).
  static size_t workspace_bytes(const ModelWeights& weights, int64_t max_step_tokens, int ep_size);

  // Runs this rank's layers over the batch. On the last pipeline stage (or without PP)
  // returns logits [batch.logit_rows.size(), vocab_local] f32 (valid until the next call);
  // earlier stages send their hidden states on and return null. `dump` may be null.
  // The logits live on the context's device (device memory when exec is CUDA).
  const float* forward(const ForwardBatch& batch, DumpSink* dump = nullptr);

  const ModelWeights& weights() const { return weights_; }
  int64_t vocab_local() const { return weights_.unembedding.out; }

 private:
  void attention_block(const LayerContext& ctx, size_t layer, const ForwardBatch& batch);
  void moe_block(const LayerContext& ctx, size_t layer, int64_t n);

  const ModelWeights& weights_;
  KvCache& cache_;
  LayerContext base_;
  kernels::RopeTable rope_;
  Workspace ws_;
  DeviceStepArrays device_arrays_;  // CUDA: the step's index arrays on the device
  StepArrays arrays_;               // this step's, where the kernels read them
  std::vector<LocalExperts> experts_;  // per local layer, as the grouped kernels take them
};

}  // namespace gossamer::worker
