#pragma once
// The layout-independent weights the worker computes with (worker/, since it binds
// model/ checkpoints to kernels/ weight views). Big matrices are views into
// the mmapped checkpoint (bf16 / MXFP4 stay as stored); small vectors (norm gains,
// biases, sinks) are converted to f32 and owned. A WeightSelection picks this rank's
// slice (layers, heads, experts, vocab rows) so that only those bytes are touched.
#include <cstdint>
#include <memory>
#include <vector>

#include "core/buffer.h"
#include "kernels/linear.h"
#include "kernels/mxfp4_linear.h"
#include "model/checkpoint.h"
#include "model/config.h"
#include "worker/range.h"

namespace gossamer::worker {

using model::Checkpoint;
using model::ModelConfig;


class PackedExpertStore;  // worker/packed_experts.h

struct WeightSelection {
  Range layers;       // global layer indices this rank holds
  Range kv_heads;     // KV heads (query heads follow: the groups of these KV heads)
  Range experts;      // global expert indices
  Range vocab;        // rows of the unembedding (lm_head)
  bool embedding = true;    // holds the input embedding
  bool final_norm = true;   // holds the final norm + lm_head slice
  // Fills -1 ends from the config (everything).
  WeightSelection resolved(const ModelConfig& config) const;
};

struct Linear {
  kernels::DenseWeight weight;  // [out, in]
  Tensor bias;                  // [out] f32, empty when the layer has none
  const float* bias_ptr() const { return bias.numel() ? bias.as<float>() : nullptr; }
};

// The experts of one layer held by this rank, for one of the two expert matrices.
struct ExpertMatrix {
  std::vector<kernels::Mxfp4Weight> per_expert;  // index: local expert (global - experts.begin)
  Tensor bias;                                   // [local_experts, out] f32
  const float* bias_of(int64_t local) const { return bias.as<float>() + local * per_expert[0].out; }
};

struct LayerWeights {
  int layer = 0;              // global index
  Tensor attn_norm;           // [H] f32
  Linear q, k, v;             // rows of this rank's heads: q [nq_local*d, H], k/v [nkv_local*d, H]
  Linear o;                   // [H, nq_local*d] (a column slice when heads are split)
  Tensor sinks;               // [nq_local] f32
  Tensor mlp_norm;            // [H] f32
  Linear router;              // [E, H] (all experts: routing is replicated)
  ExpertMatrix mlp1;          // gate_up: out 2I (interleaved), in H
  ExpertMatrix mlp2;          // down:    out H, in I
};

struct ModelWeights {
  ModelConfig config;
  WeightSelection selection;                 // resolved
  kernels::DenseWeight embedding;            // [V, H], data == nullptr when not held
  std::vector<LayerWeights> layers;          // selection.layers, in order
  Tensor final_norm;                         // [H] f32 (empty when not held)
  kernels::DenseWeight unembedding;          // [vocab slice, H]
  std::shared_ptr<const Checkpoint> checkpoint;  // keeps the mmaps alive
  std::vector<Buffer> prepared;  // device copies made by prepare_weights (worker/weight_prep.h)
  // Precision fast (CPU): the experts' packed copy (worker/packed_experts.h).
  std::shared_ptr<PackedExpertStore> packed_experts;
};

// How load_weights touches the bytes it binds (the selection says which bytes).
struct LoadOptions {
  // madvise(WILLNEED) every selected range, so the first forward pass does not stall on
  // page faults of a cold mmap (the kernel reads ahead in the background).
  bool prefetch = false;
  bool show_progress = true;  // a bar on a terminal, one log line otherwise
};

// Binds the checkpoint's tensors (either layout) to ModelWeights, checking every dtype and
// shape against the config. Errors name the tensor and the file.
ModelWeights load_weights(std::shared_ptr<const Checkpoint> checkpoint,
                          const WeightSelection& selection = {});
ModelWeights load_weights(std::shared_ptr<const Checkpoint> checkpoint, const WeightSelection& selection,
                          const LoadOptions& options);

}  // namespace gossamer::worker
