// ModelConfig from the two config.json formats (docs/MODEL.md, "Configuration") and back
// to HF JSON.
#include "model/config.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "model/config_json.h"

namespace gossamer::model {

using nlohmann::json;
using namespace cfgjson;

namespace {

int get_pos_int(const json& j, const char* key, const std::string& source) {
  int64_t v = get_int(j, key, source);
  if (v <= 0 || v > (int64_t{1} << 30))
    GOSSAMER_THROW(kInvalidArgument, "{}: key '{}' = {} must be a positive integer", source, key, v);
  return static_cast<int>(v);
}

// The reference's rule when a config has no layer_types: even layers slide.
std::vector<LayerType> alternating_layers(int n) {
  std::vector<LayerType> t(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    t[static_cast<size_t>(i)] = i % 2 == 0 ? LayerType::kSlidingAttention : LayerType::kFullAttention;
  return t;
}

std::vector<LayerType> parse_layer_types(const json& j, const std::string& source) {
  const json& v = j.at("layer_types");
  if (!v.is_array())
    GOSSAMER_THROW(kInvalidArgument, "{}: key 'layer_types' must be a list, got {}", source, v.dump());
  std::vector<LayerType> out;
  for (size_t i = 0; i < v.size(); ++i) {
    const json& e = v[i];
    if (e == "sliding_attention") out.push_back(LayerType::kSlidingAttention);
    else if (e == "full_attention") out.push_back(LayerType::kFullAttention);
    else
      GOSSAMER_THROW(kInvalidArgument,
                     "{}: key 'layer_types'[{}] = {}: expected \"sliding_attention\" or \"full_attention\"",
                     source, i, e.dump());
  }
  return out;
}

RopeScaling parse_rope_scaling(const json& j, const std::string& source) {
  RopeScaling r;
  if (!has(j, "rope_scaling")) {
    // No scaling block: plain RoPE. gpt-oss always ships YaRN, but a config without it is
    // still well defined.
    r.rope_type = "default";
    r.factor = 1.0;
    return r;
  }
  const json& s = j.at("rope_scaling");
  if (!s.is_object())
    GOSSAMER_THROW(kInvalidArgument, "{}: key 'rope_scaling' must be an object, got {}", source, s.dump());
  std::string where = source + " (rope_scaling)";
  if (has(s, "rope_type")) r.rope_type = get_string(s, "rope_type", where);
  else if (has(s, "type")) r.rope_type = get_string(s, "type", where);  // older transformers spelling
  if (r.rope_type != "yarn" && r.rope_type != "default")
    GOSSAMER_THROW(kUnsupported, "{}: key 'rope_scaling.rope_type' = \"{}\" is not supported (yarn or default)",
                   source, r.rope_type);
  r.factor = opt_double(s, "factor", r.rope_type == "yarn" ? 32.0 : 1.0, where);
  r.beta_fast = opt_double(s, "beta_fast", r.beta_fast, where);
  r.beta_slow = opt_double(s, "beta_slow", r.beta_slow, where);
  r.original_max_position_embeddings =
      opt_int(s, "original_max_position_embeddings", opt_int(j, "initial_context_length", 4096, source), where);
  // HF's YaRN defaults to truncate = true; gpt-oss sets false. Keep HF's default when absent.
  r.truncate = opt_bool(s, "truncate", true, where);
  return r;
}

QuantizationConfig parse_quantization(const json& j, const std::string& source) {
  QuantizationConfig q;
  if (!has(j, "quantization_config")) return q;
  const json& v = j.at("quantization_config");
  if (!v.is_object())
    GOSSAMER_THROW(kInvalidArgument, "{}: key 'quantization_config' must be an object", source);
  q.quant_method = get_string(v, "quant_method", source + " (quantization_config)");
  if (q.quant_method != "mxfp4")
    GOSSAMER_THROW(kUnsupported, "{}: key 'quantization_config.quant_method' = \"{}\": only mxfp4 is supported",
                   source, q.quant_method);
  if (has(v, "modules_to_not_convert")) {
    const json& m = v.at("modules_to_not_convert");
    if (!m.is_array())
      GOSSAMER_THROW(kInvalidArgument, "{}: key 'quantization_config.modules_to_not_convert' must be a list", source);
    for (const auto& e : m) {
      if (!e.is_string())
        GOSSAMER_THROW(kInvalidArgument, "{}: 'quantization_config.modules_to_not_convert' holds {}", source, e.dump());
      q.modules_to_not_convert.push_back(e.get<std::string>());
    }
  }
  return q;
}

// Floats as their shortest decimal (1e-05, not 9.999999747378752e-06).
double tidy(float f) { return std::stod(fmt::format("{}", f)); }

json read_json_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) GOSSAMER_THROW(kNotFound, "{}: cannot open", path.string());
  std::stringstream ss;
  ss << in.rdbuf();
  try {
    return json::parse(ss.str());
  } catch (const json::exception& e) {
    GOSSAMER_THROW(kInvalidArgument, "{}: not valid JSON: {}", path.string(), e.what());
  }
}

}  // namespace

ModelConfig ModelConfig::from_hf_json(const json& j, const std::string& source) {
  if (!j.is_object()) GOSSAMER_THROW(kInvalidArgument, "{}: config must be a JSON object", source);
  ModelConfig c;
  c.num_hidden_layers = get_pos_int(j, "num_hidden_layers", source);
  c.hidden_size = get_pos_int(j, "hidden_size", source);
  c.head_dim = get_pos_int(j, "head_dim", source);
  c.num_attention_heads = get_pos_int(j, "num_attention_heads", source);
  c.num_key_value_heads = get_pos_int(j, "num_key_value_heads", source);
  c.num_local_experts = get_pos_int(j, "num_local_experts", source);
  c.intermediate_size = get_pos_int(j, "intermediate_size", source);
  c.vocab_size = get_pos_int(j, "vocab_size", source);

  // The released config carries both spellings; they must agree when both are there.
  bool a = has(j, "num_experts_per_tok"), b = has(j, "experts_per_token");
  if (!a && !b)
    GOSSAMER_THROW(kInvalidArgument, "{}: missing key 'num_experts_per_tok' (or 'experts_per_token')", source);
  c.num_experts_per_tok = get_pos_int(j, a ? "num_experts_per_tok" : "experts_per_token", source);
  if (a && b && get_int(j, "experts_per_token", source) != c.num_experts_per_tok)
    GOSSAMER_THROW(kInvalidArgument, "{}: keys 'num_experts_per_tok' ({}) and 'experts_per_token' ({}) disagree",
                   source, c.num_experts_per_tok, get_int(j, "experts_per_token", source));

  c.sliding_window = static_cast<int>(opt_int(j, "sliding_window", 0, source));  // null: no window
  c.layer_types = has(j, "layer_types") ? parse_layer_types(j, source) : alternating_layers(c.num_hidden_layers);
  c.rope_theta = opt_double(j, "rope_theta", c.rope_theta, source);
  c.rope_scaling = parse_rope_scaling(j, source);
  c.initial_context_length =
      opt_int(j, "initial_context_length", c.rope_scaling.original_max_position_embeddings, source);
  c.max_position_embeddings = opt_int(j, "max_position_embeddings", c.max_position_embeddings, source);
  c.swiglu_limit = static_cast<float>(opt_double(j, "swiglu_limit", c.swiglu_limit, source));
  c.rms_norm_eps = static_cast<float>(opt_double(j, "rms_norm_eps", c.rms_norm_eps, source));
  c.attention_bias = opt_bool(j, "attention_bias", c.attention_bias, source);
  c.tie_word_embeddings = opt_bool(j, "tie_word_embeddings", c.tie_word_embeddings, source);
  c.eos_token_ids = int_or_list(j, "eos_token_id", source);
  c.pad_token_id = static_cast<int>(opt_int(j, "pad_token_id", -1, source));
  c.quantization = parse_quantization(j, source);
  c.validate(source);
  return c;
}

ModelConfig ModelConfig::from_original_json(const json& j, const std::string& source) {
  if (!j.is_object()) GOSSAMER_THROW(kInvalidArgument, "{}: config must be a JSON object", source);
  // The reference does ModelConfig(**json): an unknown key would crash it. We only warn.
  static const char* kKnown[] = {"num_hidden_layers", "num_experts", "experts_per_token", "vocab_size",
                                 "hidden_size", "intermediate_size", "swiglu_limit", "head_dim",
                                 "num_attention_heads", "num_key_value_heads", "sliding_window",
                                 "initial_context_length", "rope_theta", "rope_scaling_factor",
                                 "rope_ntk_alpha", "rope_ntk_beta"};
  for (const auto& [key, _] : j.items()) {
    bool known = false;
    for (const char* k : kKnown) known |= key == k;
    if (!known) GLOG_WARN("{}: unknown key '{}' ignored (the reference would reject it)", source, key);
  }
  ModelConfig c;
  c.num_hidden_layers = get_pos_int(j, "num_hidden_layers", source);
  c.hidden_size = get_pos_int(j, "hidden_size", source);
  c.head_dim = get_pos_int(j, "head_dim", source);
  c.num_attention_heads = get_pos_int(j, "num_attention_heads", source);
  c.num_key_value_heads = get_pos_int(j, "num_key_value_heads", source);
  c.num_local_experts = get_pos_int(j, "num_experts", source);
  c.num_experts_per_tok = get_pos_int(j, "experts_per_token", source);
  c.intermediate_size = get_pos_int(j, "intermediate_size", source);
  c.vocab_size = get_pos_int(j, "vocab_size", source);
  c.sliding_window = static_cast<int>(opt_int(j, "sliding_window", 128, source));
  c.layer_types = alternating_layers(c.num_hidden_layers);  // the reference: layer_idx % 2 == 0 slides
  c.swiglu_limit = static_cast<float>(opt_double(j, "swiglu_limit", 7.0, source));
  c.initial_context_length = opt_int(j, "initial_context_length", 4096, source);
  c.rope_theta = opt_double(j, "rope_theta", 150000.0, source);
  c.rope_scaling.rope_type = "yarn";
  c.rope_scaling.factor = opt_double(j, "rope_scaling_factor", 32.0, source);
  c.rope_scaling.beta_fast = opt_double(j, "rope_ntk_beta", 32.0, source);
  c.rope_scaling.beta_slow = opt_double(j, "rope_ntk_alpha", 1.0, source);
  c.rope_scaling.original_max_position_embeddings = c.initial_context_length;
  c.rope_scaling.truncate = false;  // the reference never rounds the ramp bounds
  c.max_position_embeddings =
      static_cast<int64_t>(static_cast<double>(c.initial_context_length) * c.rope_scaling.factor);
  c.rms_norm_eps = 1e-5f;  // hard-coded in the reference
  c.attention_bias = true;
  c.tie_word_embeddings = false;
  c.quantization.quant_method = "mxfp4";
  c.validate(source);
  return c;
}

ModelConfig ModelConfig::load_file(const std::filesystem::path& path) {
  json j = read_json_file(path);
  std::string source = path.string();
  if (!j.is_object()) GOSSAMER_THROW(kInvalidArgument, "{}: config must be a JSON object", source);
  ModelConfig c;
  if (j.contains("num_local_experts") || j.contains("model_type")) {
    c = from_hf_json(j, source);
  } else if (j.contains("num_experts")) {
    c = from_original_json(j, source);
  } else {
    GOSSAMER_THROW(kInvalidArgument,
                   "{}: neither an HF config (no 'num_local_experts') nor an original gpt-oss config "
                   "(no 'num_experts')", source);
  }
  // generation_config.json next to it adds the ids decoding stops on (HF puts
  // [<|return|>, <|endoftext|>, <|call|>] there and only one of them in config.json).
  auto gen_path = path.parent_path() / "generation_config.json";
  if (std::filesystem::exists(gen_path)) {
    json g = read_json_file(gen_path);
    if (g.is_object()) {
      for (int id : int_or_list(g, "eos_token_id", gen_path.string()))
        if (std::find(c.eos_token_ids.begin(), c.eos_token_ids.end(), id) == c.eos_token_ids.end())
          c.eos_token_ids.push_back(id);
      if (c.pad_token_id < 0) c.pad_token_id = static_cast<int>(opt_int(g, "pad_token_id", -1, gen_path.string()));
      c.validate(source + " + " + gen_path.string());
    }
  }
  return c;
}

void ModelConfig::validate(const std::string& source) const {
  auto bad = [&](const char* key, const std::string& why) {
    GOSSAMER_THROW(kInvalidArgument, "{}: key '{}': {}", source, key, why);
  };
  if (num_hidden_layers <= 0) bad("num_hidden_layers", "must be positive");
  if (hidden_size <= 0) bad("hidden_size", "must be positive");
  if (head_dim <= 0 || head_dim % 2 != 0) bad("head_dim", fmt::format("{} must be positive and even (half-split RoPE)", head_dim));
  if (num_attention_heads <= 0) bad("num_attention_heads", "must be positive");
  if (num_key_value_heads <= 0 || num_attention_heads % num_key_value_heads != 0)
    bad("num_key_value_heads", fmt::format("{} must divide num_attention_heads = {}", num_key_value_heads,
                                           num_attention_heads));
  if (num_local_experts <= 0) bad("num_local_experts", "must be positive");
  if (num_experts_per_tok <= 0 || num_experts_per_tok > num_local_experts)
    bad("num_experts_per_tok", fmt::format("{} must be in 1..num_local_experts = {}", num_experts_per_tok,
                                           num_local_experts));
  // MXFP4 blocks run along the contraction axis: H for gate_up, I for down.
  if (hidden_size % 32 != 0) bad("hidden_size", fmt::format("{} must be a multiple of 32 (MXFP4 block)", hidden_size));
  if (intermediate_size <= 0 || intermediate_size % 32 != 0)
    bad("intermediate_size", fmt::format("{} must be a positive multiple of 32 (MXFP4 block)", intermediate_size));
  if (vocab_size <= 0) bad("vocab_size", "must be positive");
  if (layer_types.size() != static_cast<size_t>(num_hidden_layers))
    bad("layer_types", fmt::format("has {} entries, num_hidden_layers = {}", layer_types.size(), num_hidden_layers));
  bool any_sliding = false;
  for (LayerType t : layer_types) any_sliding |= t == LayerType::kSlidingAttention;
  if (any_sliding && sliding_window <= 0)
    bad("sliding_window", fmt::format("{} must be positive when layer_types has sliding layers", sliding_window));
  if (!(rope_theta > 0)) bad("rope_theta", "must be positive");
  if (!(rope_scaling.factor > 0)) bad("rope_scaling.factor", "must be positive");
  if (rope_scaling.rope_type == "yarn") {
    if (!(rope_scaling.beta_fast > 0) || !(rope_scaling.beta_slow > 0))
      bad("rope_scaling.beta_fast", "beta_fast and beta_slow must be positive");
    if (rope_scaling.original_max_position_embeddings <= 0)
      bad("rope_scaling.original_max_position_embeddings", "must be positive");
  }
  if (max_position_embeddings <= 0) bad("max_position_embeddings", "must be positive");
  if (!(swiglu_limit > 0)) bad("swiglu_limit", "must be positive");
  if (!(rms_norm_eps > 0) || rms_norm_eps > 1e-2f) bad("rms_norm_eps", fmt::format("{} out of range", rms_norm_eps));
  for (int id : eos_token_ids)
    if (id < 0 || id >= vocab_size) bad("eos_token_id", fmt::format("{} is outside the vocabulary [0, {})", id, vocab_size));
  if (pad_token_id >= vocab_size) bad("pad_token_id", fmt::format("{} is outside the vocabulary", pad_token_id));
}

json ModelConfig::to_hf_json() const {
  json lt = json::array();
  for (LayerType t : layer_types) lt.push_back(t == LayerType::kSlidingAttention ? "sliding_attention" : "full_attention");
  json j = {
      {"architectures", {"GptOssForCausalLM"}},
      {"model_type", "gpt_oss"},
      {"attention_bias", attention_bias},
      {"attention_dropout", 0.0},
      {"experts_per_token", num_experts_per_tok},
      {"head_dim", head_dim},
      {"hidden_act", "silu"},
      {"hidden_size", hidden_size},
      {"initial_context_length", initial_context_length},
      {"initializer_range", 0.02},
      {"intermediate_size", intermediate_size},
      {"layer_types", lt},
      {"max_position_embeddings", max_position_embeddings},
      {"num_attention_heads", num_attention_heads},
      {"num_experts_per_tok", num_experts_per_tok},
      {"num_hidden_layers", num_hidden_layers},
      {"num_key_value_heads", num_key_value_heads},
      {"num_local_experts", num_local_experts},
      {"output_router_logits", false},
      {"rms_norm_eps", tidy(rms_norm_eps)},
      {"rope_theta", rope_theta},
      {"router_aux_loss_coef", 0.9},
      {"sliding_window", sliding_window},
      {"swiglu_limit", tidy(swiglu_limit)},
      {"tie_word_embeddings", tie_word_embeddings},
      {"use_cache", true},
      {"vocab_size", vocab_size},
  };
  if (rope_scaling.rope_type == "yarn")
    j["rope_scaling"] = {{"rope_type", "yarn"},
                         {"factor", rope_scaling.factor},
                         {"beta_fast", rope_scaling.beta_fast},
                         {"beta_slow", rope_scaling.beta_slow},
                         {"original_max_position_embeddings", rope_scaling.original_max_position_embeddings},
                         {"truncate", rope_scaling.truncate}};
  else
    j["rope_scaling"] = nullptr;
  if (eos_token_ids.size() == 1) j["eos_token_id"] = eos_token_ids[0];
  else if (!eos_token_ids.empty()) j["eos_token_id"] = eos_token_ids;
  if (pad_token_id >= 0) j["pad_token_id"] = pad_token_id;
  if (!quantization.quant_method.empty())
    j["quantization_config"] = {{"quant_method", quantization.quant_method},
                                {"modules_to_not_convert", quantization.modules_to_not_convert}};
  return j;
}

}  // namespace gossamer::model
