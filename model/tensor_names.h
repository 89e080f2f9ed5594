#pragma once
// Tensor names of the two checkpoint layouts (docs/MODEL.md, "Checkpoint layouts"), in one
// place so the weight binder, the synthetic writer and inspect never spell them differently.
#include <string>

#include "model/checkpoint.h"

namespace gossamer::model {

struct GlobalTensorNames {
  std::string embedding;    // [V, H]
  std::string final_norm;   // [H]
  std::string unembedding;  // [V, H]
};

struct LayerTensorNames {
  std::string attn_norm;                  // [H]
  // HF: three tensors. Original: q/k/v all name the fused qkv tensor [q+2kv, H].
  bool fused_qkv = false;
  std::string q_weight, q_bias, k_weight, k_bias, v_weight, v_bias;
  std::string sinks;                      // [nq]
  std::string o_weight, o_bias;           // [H, nq*d], [H]
  std::string mlp_norm;                   // [H]
  std::string router_weight, router_bias; // [E, H], [E]
  std::string mlp1_blocks, mlp1_scales, mlp1_bias;  // [E, 2I, H/32, 16], [E, 2I, H/32], [E, 2I]
  std::string mlp2_blocks, mlp2_scales, mlp2_bias;  // [E, H, I/32, 16], [E, H, I/32], [E, H]
};

GlobalTensorNames global_tensor_names(CheckpointLayout layout);
LayerTensorNames layer_tensor_names(CheckpointLayout layout, int layer);
const char* layout_name(CheckpointLayout layout);  // "hf", "original", "auto"

}  // namespace gossamer::model
