// Checkpoint::open over both layouts, the sharded index, and broken indexes.
#include <gtest/gtest.h>

#include "model/checkpoint.h"
#include "model/safetensors_writer.h"
#include "tests/common/checkpoint_fixtures.h"

namespace gossamer::model {
namespace {

using namespace gossamer::testing;

TEST(Checkpoint, OpensHfShardedTiny) {
  auto ck = Checkpoint::open(tiny_dir());
  EXPECT_EQ(ck->layout(), CheckpointLayout::kHF);
  EXPECT_EQ(ck->tensors().size(), 79u);
  EXPECT_EQ(ck->files().size(), 3u);  // three shards, although their names say "of-00002"
  EXPECT_EQ(ck->config().num_hidden_layers, 4);
  // Layer 1 spans two shards: its first norm is in shard 0, the rest in shard 1.
  EXPECT_EQ(ck->get("model.layers.1.input_layernorm.weight").file.filename(), "model-00000-of-00002.safetensors");
  EXPECT_EQ(ck->get("model.layers.1.self_attn.q_proj.weight").file.filename(), "model-00001-of-00002.safetensors");
  EXPECT_EQ(ck->get("lm_head.weight").file.filename(), "model-00002-of-00002.safetensors");
  const TensorInfo& t = ck->get("model.layers.0.self_attn.q_proj.weight");
  EXPECT_EQ(t.dtype, DType::kBF16);
  EXPECT_EQ(t.shape, (std::vector<int64_t>{1024, 256}));
  EXPECT_EQ(t.nbytes, 1024u * 256 * 2);
  EXPECT_NE(t.data, nullptr);
  EXPECT_EQ(ck->find("nope"), nullptr);
  expect_error([&] { ck->get("model.layers.9.self_attn.sinks"); },
               {"model.layers.9.self_attn.sinks", "model.safetensors.index.json"});
}

TEST(Checkpoint, OpensOriginalLayout) {
  for (auto [dir, layout] : {std::pair{tiny_dir(), CheckpointLayout::kOriginal},
                             std::pair{tiny_dir() / "original", CheckpointLayout::kAuto}}) {
    auto ck = Checkpoint::open(dir, layout);
    EXPECT_EQ(ck->layout(), CheckpointLayout::kOriginal);
    EXPECT_EQ(ck->tensors().size(), 63u);
    EXPECT_EQ(ck->get("block.0.attn.qkv.weight").shape, (std::vector<int64_t>{1536, 256}));
    EXPECT_EQ(ck->config().num_local_experts, 8);
    // Token ids come from the HF config beside original/.
    EXPECT_EQ(ck->config().eos_token_ids, std::vector<int>({4095}));
    EXPECT_EQ(ck->config().pad_token_id, 4094);
  }
}

TEST(Checkpoint, AutoFallsBackToOriginal) {
  TempDir t;
  fs::path m = copy_tiny(t);
  for (auto& e : fs::directory_iterator(m))
    if (e.path().extension() == ".safetensors" || e.path().filename() == "model.safetensors.index.json")
      fs::remove(e.path());
  auto ck = Checkpoint::open(m);
  EXPECT_EQ(ck->layout(), CheckpointLayout::kOriginal);
  expect_error([&] { Checkpoint::open(m, CheckpointLayout::kHF); }, {m.string(), "model.safetensors"});
}

TEST(Checkpoint, SingleFileHfLayout) {
  // All tensors of the sharded tiny model copied into one model.safetensors.
  TempDir t;
  auto src = Checkpoint::open(tiny_dir());
  fs::copy(tiny_dir() / "config.json", t / "config.json");
  std::vector<TensorSpec> specs;
  for (const auto& ti : src->tensors()) specs.push_back({ti.name, ti.dtype, ti.shape});
  SafetensorsWriter w(t / "model.safetensors", specs);
  for (const auto& ti : src->tensors()) w.append(ti.name, ti.data, ti.nbytes);
  w.finish();
  auto ck = Checkpoint::open(t.path());
  EXPECT_EQ(ck->layout(), CheckpointLayout::kHF);
  EXPECT_EQ(ck->files().size(), 1u);
  ASSERT_EQ(ck->tensors().size(), src->tensors().size());
  for (const auto& ti : src->tensors()) {
    const TensorInfo& o = ck->get(ti.name);
    ASSERT_EQ(o.nbytes, ti.nbytes);
    EXPECT_EQ(std::memcmp(o.data, ti.data, ti.nbytes), 0) << ti.name;
  }
}

class BadIndex : public ::testing::Test {
 protected:
  void SetUp() override { m_ = copy_tiny(t_); }
  fs::path index() const { return m_ / "model.safetensors.index.json"; }
  TempDir t_;
  fs::path m_;
};

TEST_F(BadIndex, NotJson) {
  std::ofstream(index()) << "{\"weight_map\": {";
  expect_error([&] { Checkpoint::open(m_); }, {"model.safetensors.index.json", "not valid JSON"});
}

TEST_F(BadIndex, MissingWeightMap) {
  write_json(index(), {{"metadata", {{"total_size", 1}}}});
  expect_error([&] { Checkpoint::open(m_); }, {"model.safetensors.index.json", "weight_map"});
}

TEST_F(BadIndex, NamedShardMissing) {
  fs::remove(m_ / "model-00002-of-00002.safetensors");
  expect_error([&] { Checkpoint::open(m_); },
               {"model.safetensors.index.json", "model-00002-of-00002.safetensors", "does not exist"});
}

TEST_F(BadIndex, TensorNotInItsShard) {
  auto j = read_json(index());
  j["weight_map"]["model.layers.3.self_attn.sinks"] = "model-00000-of-00002.safetensors";
  write_json(index(), j);
  expect_error([&] { Checkpoint::open(m_); },
               {"model-00000-of-00002.safetensors", "model.layers.3.self_attn.sinks", "missing from the file"});
}

TEST_F(BadIndex, PathOutsideTheDirectory) {
  auto j = read_json(index());
  j["weight_map"]["lm_head.weight"] = "../model-00002-of-00002.safetensors";
  write_json(index(), j);
  expect_error([&] { Checkpoint::open(m_); }, {"lm_head.weight", "not a file beside the index"});
}

TEST_F(BadIndex, CorruptShardNamesFileAndTensor) {
  fs::path shard = m_ / "model-00002-of-00002.safetensors";
  fs::resize_file(shard, fs::file_size(shard) - 10);
  expect_error([&] { Checkpoint::open(m_); }, {"model-00002-of-00002.safetensors", "lm_head.weight", "truncated"});
}

TEST(Checkpoint, NotAModelDirectory) {
  TempDir t;
  expect_error([&] { Checkpoint::open(t.path()); }, {t.path().string(), "config.json"});
  expect_error([&] { Checkpoint::open(t / "nope"); }, {"not a directory"});
}

}  // namespace
}  // namespace gossamer::model
