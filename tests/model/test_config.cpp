// ModelConfig from both config formats, bad values named by key and file.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "model/config.h"
#include "tests/common/checkpoint_fixtures.h"

namespace gossamer::model {
namespace {

using namespace gossamer::testing;
using nlohmann::json;

json hf_tiny() { return read_json(tiny_dir() / "config.json"); }
json orig_tiny() { return read_json(tiny_dir() / "original" / "config.json"); }

TEST(Config, ParsesHfTiny) {
  ModelConfig c = ModelConfig::from_hf_json(hf_tiny(), "config.json");
  EXPECT_EQ(c.num_hidden_layers, 4);
  EXPECT_EQ(c.hidden_size, 256);
  EXPECT_EQ(c.head_dim, 64);
  EXPECT_EQ(c.num_attention_heads, 16);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.num_local_experts, 8);
  EXPECT_EQ(c.num_experts_per_tok, 4);
  EXPECT_EQ(c.intermediate_size, 384);
  EXPECT_EQ(c.vocab_size, 4096);
  EXPECT_EQ(c.sliding_window, 8);
  ASSERT_EQ(c.layer_types.size(), 4u);
  EXPECT_TRUE(c.is_sliding(0));
  EXPECT_FALSE(c.is_sliding(1));
  EXPECT_TRUE(c.is_sliding(2));
  EXPECT_FALSE(c.is_sliding(3));
  EXPECT_EQ(c.rope_theta, 150000.0);
  EXPECT_EQ(c.rope_scaling.rope_type, "yarn");
  EXPECT_EQ(c.rope_scaling.factor, 32.0);
  EXPECT_EQ(c.rope_scaling.beta_fast, 32.0);
  EXPECT_EQ(c.rope_scaling.beta_slow, 1.0);
  EXPECT_EQ(c.rope_scaling.original_max_position_embeddings, 4096);
  EXPECT_FALSE(c.rope_scaling.truncate);
  EXPECT_EQ(c.initial_context_length, 4096);
  EXPECT_EQ(c.max_position_embeddings, 131072);
  EXPECT_FLOAT_EQ(c.swiglu_limit, 7.0f);
  EXPECT_FLOAT_EQ(c.rms_norm_eps, 1e-5f);
  EXPECT_TRUE(c.attention_bias);
  EXPECT_FALSE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_ids, std::vector<int>({4095}));
  EXPECT_EQ(c.pad_token_id, 4094);
  EXPECT_EQ(c.quantization.quant_method, "mxfp4");
  EXPECT_EQ(c.quantization.modules_to_not_convert.size(), 4u);
  EXPECT_EQ(c.q_width(), 1024);
  EXPECT_EQ(c.kv_width(), 256);
}

TEST(Config, OriginalMatchesHf) {
  ModelConfig h = ModelConfig::from_hf_json(hf_tiny(), "hf");
  ModelConfig o = ModelConfig::from_original_json(orig_tiny(), "original");
  EXPECT_EQ(o.num_hidden_layers, h.num_hidden_layers);
  EXPECT_EQ(o.hidden_size, h.hidden_size);
  EXPECT_EQ(o.head_dim, h.head_dim);
  EXPECT_EQ(o.num_attention_heads, h.num_attention_heads);
  EXPECT_EQ(o.num_key_value_heads, h.num_key_value_heads);
  EXPECT_EQ(o.num_local_experts, h.num_local_experts);
  EXPECT_EQ(o.num_experts_per_tok, h.num_experts_per_tok);
  EXPECT_EQ(o.intermediate_size, h.intermediate_size);
  EXPECT_EQ(o.vocab_size, h.vocab_size);
  EXPECT_EQ(o.sliding_window, h.sliding_window);
  EXPECT_EQ(o.layer_types, h.layer_types);
  EXPECT_EQ(o.rope_theta, h.rope_theta);
  EXPECT_EQ(o.rope_scaling.factor, h.rope_scaling.factor);
  EXPECT_EQ(o.rope_scaling.beta_fast, h.rope_scaling.beta_fast);
  EXPECT_EQ(o.rope_scaling.beta_slow, h.rope_scaling.beta_slow);
  EXPECT_EQ(o.rope_scaling.original_max_position_embeddings, h.rope_scaling.original_max_position_embeddings);
  EXPECT_EQ(o.rope_scaling.truncate, h.rope_scaling.truncate);
  EXPECT_EQ(o.max_position_embeddings, h.max_position_embeddings);
  EXPECT_EQ(o.swiglu_limit, h.swiglu_limit);
  EXPECT_EQ(o.rms_norm_eps, h.rms_norm_eps);
  EXPECT_EQ(o.quantization.quant_method, "mxfp4");
}

TEST(Config, EosListExpertsSpellingsAndDefaults) {
  json j = hf_tiny();
  j["eos_token_id"] = {4095, 7};
  j.erase("num_experts_per_tok");
  j.erase("layer_types");               // falls back to even = sliding
  j["rope_scaling"].erase("truncate");  // HF's default is true
  ModelConfig c = ModelConfig::from_hf_json(j, "x");
  EXPECT_EQ(c.eos_token_ids, std::vector<int>({4095, 7}));
  EXPECT_EQ(c.num_experts_per_tok, 4);
  EXPECT_TRUE(c.is_sliding(0));
  EXPECT_FALSE(c.is_sliding(3));
  EXPECT_TRUE(c.rope_scaling.truncate);
  j["rope_scaling"]["truncate"] = true;
  EXPECT_TRUE(ModelConfig::from_hf_json(j, "x").rope_scaling.truncate);
  j["hidden_size"] = 256.0;  // integral floats are fine
  EXPECT_EQ(ModelConfig::from_hf_json(j, "x").hidden_size, 256);
}

TEST(Config, BadHfValuesNameKeyAndFile) {
  struct Case {
    const char* what;
    std::function<void(json&)> edit;
    std::string needle;
  };
  std::vector<Case> cases = {
      {"missing", [](json& j) { j.erase("hidden_size"); }, "'hidden_size'"},
      {"type", [](json& j) { j["hidden_size"] = "wide"; }, "'hidden_size'"},
      {"fraction", [](json& j) { j["num_hidden_layers"] = 4.5; }, "'num_hidden_layers'"},
      {"negative", [](json& j) { j["vocab_size"] = -1; }, "'vocab_size'"},
      {"kv heads", [](json& j) { j["num_key_value_heads"] = 3; }, "'num_key_value_heads'"},
      {"odd head_dim", [](json& j) { j["head_dim"] = 63; }, "'head_dim'"},
      {"hidden not /32", [](json& j) { j["hidden_size"] = 260; }, "'hidden_size'"},
      {"topk > experts", [](json& j) { j["num_experts_per_tok"] = 9; j["experts_per_token"] = 9; },
       "'num_experts_per_tok'"},
      {"spellings disagree", [](json& j) { j["experts_per_token"] = 2; }, "'experts_per_token'"},
      {"layer_types length", [](json& j) { j["layer_types"].push_back("full_attention"); }, "'layer_types'"},
      {"layer_types value", [](json& j) { j["layer_types"][1] = "global"; }, "'layer_types'[1]"},
      {"window", [](json& j) { j["sliding_window"] = 0; }, "'sliding_window'"},
      {"rope type", [](json& j) { j["rope_scaling"]["rope_type"] = "llama3"; }, "rope_type"},
      {"rope factor", [](json& j) { j["rope_scaling"]["factor"] = "big"; }, "'factor'"},
      {"truncate", [](json& j) { j["rope_scaling"]["truncate"] = "no"; }, "'truncate'"},
      {"quant", [](json& j) { j["quantization_config"]["quant_method"] = "gptq"; }, "quant_method"},
      {"eos range", [](json& j) { j["eos_token_id"] = 5000; }, "'eos_token_id'"},
      {"eos type", [](json& j) { j["eos_token_id"] = {"x"}; }, "'eos_token_id'"},
      {"eps", [](json& j) { j["rms_norm_eps"] = 0; }, "'rms_norm_eps'"},
  };
  for (const auto& c : cases) {
    json j = hf_tiny();
    c.edit(j);
    expect_error([&] { ModelConfig::from_hf_json(j, "/m/config.json"); }, {c.needle, "/m/config.json"}, c.what);
  }
}

TEST(Config, BadOriginalValuesNameKey) {
  json j = orig_tiny();
  j.erase("num_experts");
  expect_error([&] { ModelConfig::from_original_json(j, "orig.json"); }, {"'num_experts'", "orig.json"});
  j = orig_tiny();
  j["num_key_value_heads"] = 5;
  expect_error([&] { ModelConfig::from_original_json(j, "orig.json"); }, {"'num_key_value_heads'"});
  j = orig_tiny();
  j["something_new"] = 1;  // warned about, not fatal
  EXPECT_NO_THROW(ModelConfig::from_original_json(j, "orig.json"));
}

TEST(Config, HfJsonRoundTrip) {
  ModelConfig a = ModelConfig::from_hf_json(hf_tiny(), "a");
  ModelConfig b = ModelConfig::from_hf_json(a.to_hf_json(), "b");
  EXPECT_EQ(a.to_hf_json(), b.to_hf_json());
  EXPECT_EQ(b.layer_types, a.layer_types);
  EXPECT_EQ(b.rms_norm_eps, a.rms_norm_eps);
  EXPECT_EQ(b.eos_token_ids, a.eos_token_ids);
  EXPECT_EQ(a.to_hf_json()["rms_norm_eps"].get<double>(), 1e-05);
  // The original config converts to the same HF JSON, apart from token ids.
  ModelConfig o = ModelConfig::from_original_json(orig_tiny(), "o");
  o.eos_token_ids = a.eos_token_ids;
  o.pad_token_id = a.pad_token_id;
  o.quantization = a.quantization;
  EXPECT_EQ(o.to_hf_json(), a.to_hf_json());
}

TEST(Config, LoadFilePicksFormatAndReadsGenerationConfig) {
  EXPECT_EQ(ModelConfig::load_file(tiny_dir() / "config.json").num_local_experts, 8);
  EXPECT_EQ(ModelConfig::load_file(tiny_dir() / "original" / "config.json").num_local_experts, 8);
  TempDir t;
  fs::copy(tiny_dir() / "config.json", t / "config.json");
  write_json(t / "generation_config.json", {{"eos_token_id", {4095, 4093}}, {"pad_token_id", 4094}});
  EXPECT_EQ(ModelConfig::load_file(t / "config.json").eos_token_ids, std::vector<int>({4095, 4093}));
  write_json(t / "generation_config.json", {{"eos_token_id", 9999}});
  expect_error([&] { ModelConfig::load_file(t / "config.json"); }, {"eos_token_id", "generation_config.json"});
  std::ofstream(t / "config.json") << "{not json";
  expect_error([&] { ModelConfig::load_file(t / "config.json"); }, {"config.json", "not valid JSON"});
  write_json(t / "config.json", {{"hello", 1}});
  expect_error([&] { ModelConfig::load_file(t / "config.json"); }, {"config.json", "num_experts"});
}

}  // namespace
}  // namespace gossamer::model
