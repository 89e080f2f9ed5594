// Bad checkpoints fail at load with a message naming the tensor and the file.
#include <gtest/gtest.h>

#include "tests/common/checkpoint_fixtures.h"
#include "worker/weights.h"

namespace gossamer::worker {
namespace {

using namespace gossamer::testing;
using model::CheckpointLayout;

class BadWeights : public ::testing::Test {
 protected:
  void SetUp() override { m_ = copy_tiny(t_); }
  void expect_load_error(std::initializer_list<std::string> needles, CheckpointLayout layout = CheckpointLayout::kHF) {
    LoadOptions o;
    o.show_progress = false;
    expect_error([&] { load_weights(Checkpoint::open(m_, layout), {}, o); }, needles);
  }
  TempDir t_;
  fs::path m_;
  const std::string shard1_ = "model-00001-of-00002.safetensors";
};

TEST_F(BadWeights, WrongDtype) {
  // F16 has the same size as BF16, so the file itself is consistent; the binder refuses it.
  edit_header(m_ / shard1_, [](auto& h) { h["model.layers.2.self_attn.k_proj.weight"]["dtype"] = "F16"; });
  expect_load_error({"model.layers.2.self_attn.k_proj.weight", shard1_, "dtype F16", "BF16 or F32"});
}

TEST_F(BadWeights, BlocksNotU8) {
  edit_header(m_ / shard1_, [](auto& h) {
    auto& e = h["model.layers.1.mlp.experts.down_proj_scales"];
    e["dtype"] = "BF16";
    e["shape"] = {8, 256, 6};
  });
  expect_load_error({"model.layers.1.mlp.experts.down_proj_scales", shard1_, "expected U8"});
}

TEST_F(BadWeights, WrongShape) {
  edit_header(m_ / shard1_, [](auto& h) { h["model.layers.1.mlp.experts.down_proj_blocks"]["shape"] = {8, 256, 24, 8}; });
  expect_load_error({"model.layers.1.mlp.experts.down_proj_blocks in " + shard1_, "shape [8, 256, 24, 8]",
                     "expected [8, 256, 12, 16]"});
}

TEST_F(BadWeights, WrongShapeOriginalFusedQkv) {
  edit_header(m_ / "original" / "model.safetensors",
              [](auto& h) { h["block.3.attn.qkv.weight"]["shape"] = {256, 1536}; });
  expect_load_error({"block.3.attn.qkv.weight", "model.safetensors", "expected [1536, 256]"},
                    CheckpointLayout::kOriginal);
}

TEST_F(BadWeights, MissingTensor) {
  auto j = read_json(m_ / "model.safetensors.index.json");
  j["weight_map"].erase("model.layers.2.self_attn.sinks");
  write_json(m_ / "model.safetensors.index.json", j);
  expect_load_error({"model.layers.2.self_attn.sinks", "model.safetensors.index.json", "not found"});
}

TEST_F(BadWeights, ConfigDisagreesWithTensors) {
  auto j = read_json(m_ / "config.json");
  j["hidden_size"] = 288;
  write_json(m_ / "config.json", j);
  // The first tensor checked is the embedding: [4096, 256] on disk, [4096, 288] expected.
  expect_load_error({"model.embed_tokens.weight in model-00000-of-00002.safetensors", "shape [4096, 256]",
                     "expected [4096, 288]", "config.json"});
  j["hidden_size"] = 256;
  j["num_local_experts"] = 16;
  write_json(m_ / "config.json", j);
  expect_load_error({"model.layers.0.mlp.router.weight", "expected [16, 256]"});
}

TEST_F(BadWeights, OriginalConfigDisagrees) {
  auto j = read_json(m_ / "original" / "config.json");
  j["intermediate_size"] = 416;
  write_json(m_ / "original" / "config.json", j);
  expect_load_error({"block.0.mlp.mlp1_weight.blocks", "original/model.safetensors", "expected [8, 832, 8, 16]"},
                    CheckpointLayout::kOriginal);
}

}  // namespace
}  // namespace gossamer::worker
