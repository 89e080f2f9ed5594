// load_weights: both layouts give identical weights; selections give the right slices.
#include <gtest/gtest.h>

#include "tests/common/checkpoint_fixtures.h"
#include "worker/weights.h"

namespace gossamer::worker {
namespace {

using namespace gossamer::testing;
using model::CheckpointLayout;

LoadOptions quiet() {
  LoadOptions o;
  o.show_progress = false;
  return o;
}

ModelWeights load(CheckpointLayout layout, const WeightSelection& sel = {}) {
  return load_weights(Checkpoint::open(tiny_dir(), layout), sel, quiet());
}

size_t esize(const kernels::DenseWeight& w) { return dtype_bytes(w.dtype, 1); }

// Row r, columns [0, w.in) of a dense view.
const uint8_t* row_of(const kernels::DenseWeight& w, int64_t r) {
  return static_cast<const uint8_t*>(w.data) + static_cast<size_t>(r * w.stride()) * esize(w);
}

void expect_same_dense(const kernels::DenseWeight& a, const kernels::DenseWeight& b, const char* what) {
  ASSERT_EQ(a.out, b.out) << what;
  ASSERT_EQ(a.in, b.in) << what;
  ASSERT_EQ(a.dtype, b.dtype) << what;
  for (int64_t r = 0; r < a.out; ++r)
    ASSERT_EQ(std::memcmp(row_of(a, r), row_of(b, r), static_cast<size_t>(a.in) * esize(a)), 0) << what << " row " << r;
}

void expect_same_f32(const Tensor& a, const Tensor& b, const char* what) {
  ASSERT_EQ(a.numel(), b.numel()) << what;
  EXPECT_EQ(std::memcmp(a.as<float>(), b.as<float>(), static_cast<size_t>(a.numel()) * 4), 0) << what;
}

void expect_same_experts(const ExpertMatrix& a, const ExpertMatrix& b, const char* what) {
  ASSERT_EQ(a.per_expert.size(), b.per_expert.size());
  for (size_t e = 0; e < a.per_expert.size(); ++e) {
    const auto &x = a.per_expert[e], &y = b.per_expert[e];
    ASSERT_EQ(x.out, y.out);
    ASSERT_EQ(x.in, y.in);
    EXPECT_EQ(std::memcmp(x.blocks, y.blocks, static_cast<size_t>(x.out * x.in / 2)), 0) << what << " e" << e;
    EXPECT_EQ(std::memcmp(x.scales, y.scales, static_cast<size_t>(x.out * x.in / 32)), 0) << what << " e" << e;
  }
  expect_same_f32(a.bias, b.bias, what);
}

TEST(Weights, BothLayoutsBitIdentical) {
  ModelWeights h = load(CheckpointLayout::kHF), o = load(CheckpointLayout::kOriginal);
  ASSERT_EQ(h.layers.size(), 4u);
  ASSERT_EQ(o.layers.size(), 4u);
  expect_same_dense(h.embedding, o.embedding, "embedding");
  expect_same_dense(h.unembedding, o.unembedding, "unembedding");
  expect_same_f32(h.final_norm, o.final_norm, "final_norm");
  for (size_t l = 0; l < 4; ++l) {
    const auto &a = h.layers[l], &b = o.layers[l];
    EXPECT_EQ(a.layer, static_cast<int>(l));
    expect_same_f32(a.attn_norm, b.attn_norm, "attn_norm");
    expect_same_dense(a.q.weight, b.q.weight, "q");
    expect_same_dense(a.k.weight, b.k.weight, "k");
    expect_same_dense(a.v.weight, b.v.weight, "v");
    expect_same_dense(a.o.weight, b.o.weight, "o");
    expect_same_f32(a.q.bias, b.q.bias, "q bias");
    expect_same_f32(a.k.bias, b.k.bias, "k bias");
    expect_same_f32(a.v.bias, b.v.bias, "v bias");
    expect_same_f32(a.o.bias, b.o.bias, "o bias");
    expect_same_f32(a.sinks, b.sinks, "sinks");
    expect_same_f32(a.mlp_norm, b.mlp_norm, "mlp_norm");
    expect_same_dense(a.router.weight, b.router.weight, "router");
    expect_same_f32(a.router.bias, b.router.bias, "router bias");
    expect_same_experts(a.mlp1, b.mlp1, "mlp1");
    expect_same_experts(a.mlp2, b.mlp2, "mlp2");
  }
  // Shapes the kernels rely on.
  const auto& L = h.layers[0];
  EXPECT_EQ(L.q.weight.out, 1024);
  EXPECT_EQ(L.q.weight.in, 256);
  EXPECT_EQ(L.k.weight.out, 256);
  EXPECT_EQ(L.o.weight.out, 256);
  EXPECT_EQ(L.o.weight.in, 1024);
  EXPECT_EQ(L.o.weight.stride(), 1024);
  EXPECT_EQ(L.sinks.numel(), 16);
  EXPECT_EQ(L.mlp1.per_expert.size(), 8u);
  EXPECT_EQ(L.mlp1.per_expert[0].out, 768);
  EXPECT_EQ(L.mlp1.per_expert[0].in, 256);
  EXPECT_EQ(L.mlp2.per_expert[0].out, 256);
  EXPECT_EQ(L.mlp2.per_expert[0].in, 384);
  EXPECT_EQ(L.mlp1.bias.shape(), (Shape{8, 768}));
  EXPECT_EQ(L.router.weight.out, 8);
  // A bias value checked by hand against the file: layer 0 q_proj.bias[0] as bf16.
  auto ck = Checkpoint::open(tiny_dir());
  uint16_t raw;
  std::memcpy(&raw, ck->get("model.layers.0.self_attn.q_proj.bias").data, 2);
  EXPECT_EQ(L.q.bias.as<float>()[0], bf16_to_f32(bf16{raw}));
}

TEST(Weights, HeadSelectionSlicesQkvOAndSinks) {
  ModelWeights full = load(CheckpointLayout::kHF);
  for (auto layout : {CheckpointLayout::kHF, CheckpointLayout::kOriginal}) {
    WeightSelection sel;
    sel.kv_heads = {1, 3};  // KV heads 1, 2 -> query heads 4..11 (group of 4)
    ModelWeights s = load(layout, sel);
    const int64_t d = 64, H = 256;
    for (size_t l = 0; l < 4; ++l) {
      const auto &a = s.layers[l], &f = full.layers[l];
      ASSERT_EQ(a.q.weight.out, 8 * d);
      ASSERT_EQ(a.k.weight.out, 2 * d);
      for (int64_t r = 0; r < 8 * d; ++r)
        ASSERT_EQ(std::memcmp(row_of(a.q.weight, r), row_of(f.q.weight, 4 * d + r), H * 2), 0);
      for (int64_t r = 0; r < 2 * d; ++r) {
        ASSERT_EQ(std::memcmp(row_of(a.k.weight, r), row_of(f.k.weight, d + r), H * 2), 0);
        ASSERT_EQ(std::memcmp(row_of(a.v.weight, r), row_of(f.v.weight, d + r), H * 2), 0);
      }
      EXPECT_EQ(std::memcmp(a.q.bias.as<float>(), f.q.bias.as<float>() + 4 * d, 8 * d * 4), 0);
      EXPECT_EQ(std::memcmp(a.k.bias.as<float>(), f.k.bias.as<float>() + d, 2 * d * 4), 0);
      EXPECT_EQ(std::memcmp(a.v.bias.as<float>(), f.v.bias.as<float>() + d, 2 * d * 4), 0);
      // o_proj: columns [4d, 12d) of every row, as a strided view into the full matrix.
      EXPECT_EQ(a.o.weight.out, H);
      EXPECT_EQ(a.o.weight.in, 8 * d);
      EXPECT_EQ(a.o.weight.row_stride, 16 * d);
      for (int64_t r = 0; r < H; ++r)
        ASSERT_EQ(std::memcmp(row_of(a.o.weight, r), row_of(f.o.weight, r) + 4 * d * 2, 8 * d * 2), 0);
      expect_same_f32(a.o.bias, f.o.bias, "o bias stays whole");
      ASSERT_EQ(a.sinks.numel(), 8);
      EXPECT_EQ(std::memcmp(a.sinks.as<float>(), f.sinks.as<float>() + 4, 8 * 4), 0);
    }
  }
}

TEST(Weights, ExpertVocabAndLayerSelection) {
  ModelWeights full = load(CheckpointLayout::kHF);
  WeightSelection sel;
  sel.layers = {1, 3};
  sel.experts = {2, 5};
  sel.vocab = {100, 300};
  sel.embedding = false;
  ModelWeights s = load(CheckpointLayout::kOriginal, sel);
  EXPECT_EQ(s.embedding.data, nullptr);
  ASSERT_EQ(s.layers.size(), 2u);
  EXPECT_EQ(s.layers[0].layer, 1);
  EXPECT_EQ(s.layers[1].layer, 2);
  for (size_t i = 0; i < 2; ++i) {
    const auto &a = s.layers[i], &f = full.layers[i + 1];
    for (auto [am, fm] : {std::pair{&a.mlp1, &f.mlp1}, std::pair{&a.mlp2, &f.mlp2}}) {
      ASSERT_EQ(am->per_expert.size(), 3u);
      for (int64_t e = 0; e < 3; ++e) {
        const auto &x = am->per_expert[static_cast<size_t>(e)], &y = fm->per_expert[static_cast<size_t>(e + 2)];
        EXPECT_EQ(std::memcmp(x.blocks, y.blocks, static_cast<size_t>(x.out * x.in / 2)), 0);
        EXPECT_EQ(std::memcmp(x.scales, y.scales, static_cast<size_t>(x.out * x.in / 32)), 0);
        EXPECT_EQ(std::memcmp(am->bias_of(e), fm->bias_of(e + 2), static_cast<size_t>(x.out) * 4), 0);
      }
    }
    expect_same_dense(a.router.weight, f.router.weight, "router is replicated");
  }
  ASSERT_EQ(s.unembedding.out, 200);
  for (int64_t r = 0; r < 200; ++r)
    ASSERT_EQ(std::memcmp(row_of(s.unembedding, r), row_of(full.unembedding, 100 + r), 256 * 2), 0);
  // Expert views follow the documented arithmetic.
  auto ck = Checkpoint::open(tiny_dir());
  const auto& blocks = ck->get("model.layers.1.mlp.experts.gate_up_proj_blocks");
  ModelWeights h = load_weights(ck, sel, quiet());
  EXPECT_EQ(h.layers[0].mlp1.per_expert[0].blocks, blocks.data + 2 * 768 * (256 / 32) * 16);
}

TEST(Weights, SelectionOutOfRange) {
  auto ck = Checkpoint::open(tiny_dir());
  WeightSelection sel;
  sel.experts = {6, 9};
  expect_error([&] { load_weights(ck, sel, quiet()); }, {"experts", "[6, 9)"});
  sel = {};
  sel.kv_heads = {-1, 2};
  expect_error([&] { load_weights(ck, sel, quiet()); }, {"kv_heads"});
  sel = {};
  sel.layers = {0, 5};
  expect_error([&] { load_weights(ck, sel, quiet()); }, {"layers"});
}

TEST(Weights, PrefetchAndProgressDoNotChangeViews) {
  auto ck = Checkpoint::open(tiny_dir());
  LoadOptions o;
  o.prefetch = true;
  o.show_progress = true;
  ModelWeights a = load_weights(ck, {}, o), b = load_weights(ck, {}, quiet());
  EXPECT_EQ(a.layers[2].q.weight.data, b.layers[2].q.weight.data);
}

}  // namespace
}  // namespace gossamer::worker
