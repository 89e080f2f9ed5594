// Named intermediates against the reference's per-layer dumps of prompt 4, and the
// experts chosen at every layer and position against the reference's routing.
#include <algorithm>
#include <set>

#include <gtest/gtest.h>

#include "golden_data.h"
#include "worker/engine.h"

namespace gossamer::worker {
namespace {

using gossamer::testing::read_f32_file;
using gossamer::testing::tiny_data_dir;
using gossamer::testing::tiny_manifest;
using gossamer::testing::tiny_model_dir;

// Relative error of the whole [rows, cols] block: ||a - b|| / ||b||.
double rel_norm_error(const float* a, const float* b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return std::sqrt(num / std::max(den, 1e-30));
}

std::vector<DumpRequest> all_layers(std::initializer_list<const char*> names) {
  std::vector<DumpRequest> r;
  for (const char* n : names) r.push_back(DumpRequest::parse(std::string(n) + ":*"));
  return r;
}

TEST(GoldenDumps, Prompt4PerLayerActivations) {
  EngineOptions o;
  o.threads = 2;
  Engine engine(tiny_model_dir(), o);
  const auto& cfg = engine.config();
  const auto& s = tiny_manifest()["sequences"][4];
  const auto tokens = s["tokens"].get<std::vector<int32_t>>();
  const int64_t T = static_cast<int64_t>(tokens.size()), H = cfg.hidden_size;
  const int L = cfg.num_hidden_layers, E = cfg.num_local_experts;

  DumpSink sink(all_layers({"embedding", "resid_after_attn", "resid_after_mlp", "router_logits",
                            "final_norm"}));
  std::vector<float> logits;
  engine.feed(engine.open_sequence(), tokens, true, logits, &sink);
  const auto& e = sink.entries();
  const std::string g = tiny_data_dir() + "/golden/dbg.p4.";

  auto check = [&](const std::string& name, int layer, const float* golden, int64_t cols) {
    auto it = e.find({name, layer});
    ASSERT_NE(it, e.end()) << name << ":" << layer;
    ASSERT_EQ(it->second.rows, T);
    ASSERT_EQ(it->second.cols, cols);
    EXPECT_LE(rel_norm_error(it->second.data.data(), golden, static_cast<size_t>(T * cols)), 1e-5)
        << name << " layer " << layer;
  };
  check("embedding", kNoLayer, read_f32_file(g + "embedding.f32").data(), H);
  check("final_norm", kNoLayer, read_f32_file(g + "final_norm.f32").data(), H);
  const auto attn = read_f32_file(g + "resid_after_attn.f32");
  const auto mlp = read_f32_file(g + "resid_after_mlp.f32");
  const auto router = read_f32_file(g + "router_logits.f32");
  for (int l = 0; l < L; ++l) {
    check("resid_after_attn", l, attn.data() + l * T * H, H);
    check("resid_after_mlp", l, mlp.data() + l * T * H, H);
    check("router_logits", l, router.data() + l * T * E, E);
  }
}

std::set<int> top_k_set(const float* logits, int E, int k) {
  std::vector<int> idx(static_cast<size_t>(E));
  for (int i = 0; i < E; ++i) idx[static_cast<size_t>(i)] = i;
  std::stable_sort(idx.begin(), idx.end(), [&](int a, int b) { return logits[a] > logits[b]; });
  return {idx.begin(), idx.begin() + k};
}

TEST(GoldenDumps, SameExpertsChosenEverywhere) {
  EngineOptions o;
  o.threads = 2;
  Engine engine(tiny_model_dir(), o);
  const auto& cfg = engine.config();
  const int E = cfg.num_local_experts, k = cfg.num_experts_per_tok;
  for (const auto& s : tiny_manifest()["sequences"]) {
    const auto tokens = s["tokens"].get<std::vector<int32_t>>();
    DumpSink sink(all_layers({"router_logits"}));
    std::vector<float> logits;
    const int64_t seq = engine.open_sequence();
    engine.feed(seq, tokens, true, logits, &sink);
    engine.close_sequence(seq);
    const auto& golden = s["router_topk_per_layer"];
    for (int l = 0; l < cfg.num_hidden_layers; ++l) {
      const auto& ours = sink.entries().at({"router_logits", l});
      for (size_t t = 0; t < tokens.size(); ++t) {
        auto want = golden[static_cast<size_t>(l)][t].get<std::vector<int>>();
        EXPECT_EQ(top_k_set(ours.data.data() + t * E, E, k), std::set<int>(want.begin(), want.end()))
            << "sequence " << s["id"] << " layer " << l << " position " << t;
      }
    }
  }
}

}  // namespace
}  // namespace gossamer::worker
