// Synthetic checkpoints: open and load like the real thing; the seed alone fixes the bytes.
#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "core/thread_pool.h"
#include "model/mxfp4.h"
#include "model/synth.h"
#include "tests/common/checkpoint_fixtures.h"
#include "worker/weights.h"

namespace gossamer::worker {
namespace {

using namespace gossamer::testing;

model::SynthResult synth(const fs::path& out, uint64_t seed, uint64_t shard_bytes = 0, ThreadPool* pool = nullptr) {
  model::SynthOptions o;
  o.out = out;
  o.seed = seed;
  o.shard_bytes = shard_bytes;
  o.show_progress = false;
  o.pool = pool;
  return model::write_synthetic_checkpoint(model::synth_preset("tiny"), o);
}

TEST(Synth, TinyOpensAndLoads) {
  TempDir t;
  auto r = synth(t / "m", 1);
  EXPECT_GE(r.shards.size(), 3u);  // several shards even for tiny: exercises the index
  auto ck = Checkpoint::open(t / "m");
  EXPECT_EQ(ck->layout(), model::CheckpointLayout::kHF);
  EXPECT_EQ(ck->files().size(), r.shards.size());
  // The same config shape as the golden tiny checkpoint, tensor for tensor.
  auto golden = Checkpoint::open(tiny_dir());
  ASSERT_EQ(ck->tensors().size(), golden->tensors().size());
  for (const auto& g : golden->tensors()) {
    const auto& s = ck->get(g.name);
    EXPECT_EQ(s.shape, g.shape) << g.name;
    EXPECT_EQ(s.dtype, g.dtype) << g.name;
  }
  LoadOptions o;
  o.show_progress = false;
  ModelWeights w = load_weights(ck, {}, o);
  ASSERT_EQ(w.layers.size(), 4u);
  // Norm gains near 1, sinks ~N(0, 1).
  for (int i = 0; i < 256; ++i) EXPECT_NEAR(w.layers[0].attn_norm.as<float>()[i], 1.0f, 0.1f);
  double sq = 0;
  for (const auto& L : w.layers)
    for (int i = 0; i < 16; ++i) sq += L.sinks.as<float>()[i] * L.sinks.as<float>()[i];
  EXPECT_NEAR(std::sqrt(sq / 64), 1.0, 0.35);
  EXPECT_EQ(ck->config().eos_token_ids, std::vector<int>({4095}));
}

TEST(Synth, SameSeedSameBytesWhateverShardsAndThreads) {
  TempDir t;
  ThreadPool one(1);
  synth(t / "a", 42);
  synth(t / "b", 42, 3'000'000, &one);
  synth(t / "c", 43);
  auto a = Checkpoint::open(t / "a"), b = Checkpoint::open(t / "b"), c = Checkpoint::open(t / "c");
  EXPECT_NE(a->files().size(), b->files().size());
  size_t differ = 0;
  for (const auto& x : a->tensors()) {
    const auto& y = b->get(x.name);
    ASSERT_EQ(x.nbytes, y.nbytes);
    EXPECT_EQ(std::memcmp(x.data, y.data, x.nbytes), 0) << x.name;
    differ += std::memcmp(x.data, c->get(x.name).data, x.nbytes) != 0;
  }
  EXPECT_EQ(differ, a->tensors().size());  // another seed changes every tensor
  // Same seed, same layout: byte-identical files.
  synth(t / "d", 42);
  for (const auto& f : a->files()) EXPECT_EQ(read_bytes(f), read_bytes(t / "d" / f.filename())) << f;
}

TEST(Synth, RoutingIsNotDegenerate) {
  TempDir t;
  synth(t / "m", 5);
  LoadOptions o;
  o.show_progress = false;
  ModelWeights w = load_weights(Checkpoint::open(t / "m"), {}, o);
  const auto& r = w.layers[0].router;
  // Unit-RMS random inputs (what RMSNorm hands the router) pick many different top-4 sets.
  uint64_t state = 7;
  auto uniform = [&] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<float>((state >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
  };
  std::set<std::vector<int>> sets;
  for (int tok = 0; tok < 64; ++tok) {
    std::vector<float> x(256);
    for (auto& v : x) v = uniform() * 1.7320508f;
    std::vector<std::pair<float, int>> logits;
    for (int e = 0; e < 8; ++e) {
      float acc = r.bias.as<float>()[e];
      const auto* row = static_cast<const uint16_t*>(r.weight.data) + e * 256;
      for (int i = 0; i < 256; ++i) acc += bf16_to_f32(bf16{row[i]}) * x[static_cast<size_t>(i)];
      logits.push_back({-acc, e});
    }
    std::sort(logits.begin(), logits.end());
    std::vector<int> top;
    for (int k = 0; k < 4; ++k) top.push_back(logits[static_cast<size_t>(k)].second);
    std::sort(top.begin(), top.end());
    sets.insert(top);
  }
  EXPECT_GE(sets.size(), 15u);  // of C(8,4) = 70 possible
}

TEST(Synth, RefusesToOverwriteUnlessAsked) {
  TempDir t;
  synth(t / "m", 1);
  expect_error([&] { synth(t / "m", 2); }, {"already holds a checkpoint"});
  model::SynthOptions o;
  o.out = t / "m";
  o.seed = 2;
  o.overwrite = true;
  o.show_progress = false;
  o.shard_bytes = 100'000'000;  // one shard now: stale shards must be gone
  model::write_synthetic_checkpoint(model::synth_preset("tiny"), o);
  EXPECT_EQ(Checkpoint::open(t / "m")->files().size(), 1u);
  size_t n = 0;
  for (auto& e : fs::directory_iterator(t / "m")) n += e.path().extension() == ".safetensors";
  EXPECT_EQ(n, 1u);
}

TEST(Synth, PresetsAndLayerOverride) {
  auto c = model::synth_preset("gpt-oss-20b", 4);
  EXPECT_EQ(c.num_hidden_layers, 4);
  EXPECT_EQ(c.hidden_size, 2880);
  EXPECT_EQ(c.num_local_experts, 32);
  EXPECT_EQ(c.layer_types.size(), 4u);
  EXPECT_EQ(model::synth_preset("gpt-oss-120b").num_local_experts, 128);
  EXPECT_EQ(model::synth_preset("gpt-oss-120b").num_hidden_layers, 36);
  expect_error([] { model::synth_preset("gpt-5"); }, {"gpt-5"});
}

}  // namespace
}  // namespace gossamer::worker
