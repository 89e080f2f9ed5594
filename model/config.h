#pragma once
// ModelConfig: every gpt-oss hyper-parameter the engine uses, read from the HF
// config.json or from original/config.json (docs/MODEL.md, "Configuration"). Nothing
// downstream hard-codes a size: the tiny test model and the 120b model differ only here.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace gossamer::model {

enum class LayerType { kSlidingAttention, kFullAttention };

struct RopeScaling {
  std::string rope_type = "yarn";
  double factor = 32.0;
  double beta_fast = 32.0;
  double beta_slow = 1.0;
  int64_t original_max_position_embeddings = 4096;
  bool truncate = false;
};

struct QuantizationConfig {
  std::string quant_method;                        // "mxfp4" or empty
  std::vector<std::string> modules_to_not_convert;
};

struct ModelConfig {
  int num_hidden_layers = 0;
  int hidden_size = 0;
  int head_dim = 0;
  int num_attention_heads = 0;
  int num_key_value_heads = 0;
  int num_local_experts = 0;
  int num_experts_per_tok = 0;
  int intermediate_size = 0;
  int vocab_size = 0;
  int sliding_window = 0;
  std::vector<LayerType> layer_types;  // one per layer
  double rope_theta = 150000.0;
  RopeScaling rope_scaling;
  int64_t initial_context_length = 4096;
  int64_t max_position_embeddings = 131072;
  float swiglu_limit = 7.0f;
  float swiglu_alpha = 1.702f;  // not in either config file; the references hard-code it
  float rms_norm_eps = 1e-5f;
  bool attention_bias = true;
  bool tie_word_embeddings = false;
  std::vector<int> eos_token_ids;
  int pad_token_id = -1;
  QuantizationConfig quantization;

  int q_width() const { return num_attention_heads * head_dim; }
  int kv_width() const { return num_key_value_heads * head_dim; }
  bool is_sliding(int layer) const {
    return layer_types[static_cast<size_t>(layer)] == LayerType::kSlidingAttention;
  }

  // Throws kInvalidArgument naming the key on a missing key, wrong type or bad value.
  static ModelConfig from_hf_json(const nlohmann::json& j, const std::string& source);
  static ModelConfig from_original_json(const nlohmann::json& j, const std::string& source);
  // Reads `path` (a config.json) and picks the format by its keys.
  static ModelConfig load_file(const std::filesystem::path& path);
  // Cross-field checks (heads divisible, head_dim even, layer_types length, ...).
  void validate(const std::string& source) const;
  nlohmann::json to_hf_json() const;
};

}  // namespace gossamer::model
