#include "model/tensor_names.h"

#include <fmt/format.h>

#include "core/error.h"

namespace gossamer::model {

const char* layout_name(CheckpointLayout layout) {
  switch (layout) {
    case CheckpointLayout::kHF: return "hf";
    case CheckpointLayout::kOriginal: return "original";
    case CheckpointLayout::kAuto: return "auto";
  }
  return "?";
}

GlobalTensorNames global_tensor_names(CheckpointLayout layout) {
  GOSSAMER_CHECK(layout != CheckpointLayout::kAuto, "names need a resolved layout");
  if (layout == CheckpointLayout::kOriginal) return {"embedding.weight", "norm.scale", "unembedding.weight"};
  return {"model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"};
}

LayerTensorNames layer_tensor_names(CheckpointLayout layout, int layer) {
  GOSSAMER_CHECK(layout != CheckpointLayout::kAuto, "names need a resolved layout");
  LayerTensorNames n;
  if (layout == CheckpointLayout::kOriginal) {
    std::string b = fmt::format("block.{}.", layer);
    n.attn_norm = b + "attn.norm.scale";
    n.fused_qkv = true;
    n.q_weight = n.k_weight = n.v_weight = b + "attn.qkv.weight";
    n.q_bias = n.k_bias = n.v_bias = b + "attn.qkv.bias";
    n.sinks = b + "attn.sinks";
    n.o_weight = b + "attn.out.weight";
    n.o_bias = b + "attn.out.bias";
    n.mlp_norm = b + "mlp.norm.scale";
    n.router_weight = b + "mlp.gate.weight";
    n.router_bias = b + "mlp.gate.bias";
    n.mlp1_blocks = b + "mlp.mlp1_weight.blocks";
    n.mlp1_scales = b + "mlp.mlp1_weight.scales";
    n.mlp1_bias = b + "mlp.mlp1_bias";
    n.mlp2_blocks = b + "mlp.mlp2_weight.blocks";
    n.mlp2_scales = b + "mlp.mlp2_weight.scales";
    n.mlp2_bias = b + "mlp.mlp2_bias";
    return n;
  }
  std::string b = fmt::format("model.layers.{}.", layer);
  n.attn_norm = b + "input_layernorm.weight";
  n.q_weight = b + "self_attn.q_proj.weight";
  n.q_bias = b + "self_attn.q_proj.bias";
  n.k_weight = b + "self_attn.k_proj.weight";
  n.k_bias = b + "self_attn.k_proj.bias";
  n.v_weight = b + "self_attn.v_proj.weight";
  n.v_bias = b + "self_attn.v_proj.bias";
  n.sinks = b + "self_attn.sinks";
  n.o_weight = b + "self_attn.o_proj.weight";
  n.o_bias = b + "self_attn.o_proj.bias";
  n.mlp_norm = b + "post_attention_layernorm.weight";
  n.router_weight = b + "mlp.router.weight";
  n.router_bias = b + "mlp.router.bias";
  n.mlp1_blocks = b + "mlp.experts.gate_up_proj_blocks";
  n.mlp1_scales = b + "mlp.experts.gate_up_proj_scales";
  n.mlp1_bias = b + "mlp.experts.gate_up_proj_bias";
  n.mlp2_blocks = b + "mlp.experts.down_proj_blocks";
  n.mlp2_scales = b + "mlp.experts.down_proj_scales";
  n.mlp2_bias = b + "mlp.experts.down_proj_bias";
  return n;
}

}  // namespace gossamer::model
