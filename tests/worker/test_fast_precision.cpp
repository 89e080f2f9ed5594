// runtime.precision fast on the CPU: the tiny golden checkpoint against the golden bf16
// tier (tests/worker/golden_bf16_tier.h) from both layouts, one prefill per sequence plus
// the 640-token sequence; then batched greedy generation (chunked prefill, then decode
// steps of several sequences: the few-row kernels and the KV cache across steps) must give
// the golden greedy tokens over each sequence's bf16_strict_greedy_prefix.
// ctest runs this suite twice: on the best path of the CPU and with GOSSAMER_CPU_ISA=avx2
// (tests/CMakeLists.txt), so the AVX2 fast kernels are judged too.
#include <gtest/gtest.h>

#include <algorithm>

#include "golden_bf16_tier.h"
#include "golden_data.h"
#include "kernels/cpu/isa.h"
#include "worker/engine.h"

namespace gossamer::worker {
namespace {

using gossamer::testing::tiny_manifest;
using gossamer::testing::tiny_model_dir;

EngineOptions fast_options(model::CheckpointLayout layout) {
  EngineOptions o;
  o.layout = layout;
  o.precision = kernels::Precision::kFast;
  o.threads = 2;
  o.max_context = 1024;
  return o;
}

const char* layout_name(model::CheckpointLayout l) { return l == model::CheckpointLayout::kHF ? "hf" : "original"; }

class FastPrecision : public ::testing::TestWithParam<model::CheckpointLayout> {};

TEST_P(FastPrecision, GoldenBf16Tier) {
  Engine engine(tiny_model_dir(), fast_options(GetParam()));
  gossamer::testing::expect_golden_bf16_tier(
      engine,
      std::string("CPU fast (") + layout_name(GetParam()) + ", " + kernels::cpu::isa_name(kernels::cpu::active_isa()) +
          ")",
      /*with_long=*/true);
}

TEST_P(FastPrecision, BatchedGreedyKeepsTheStrictPrefix) {
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::vector<int32_t>> greedy;
  std::vector<size_t> strict;
  for (const auto& s : tiny_manifest()["sequences"]) {
    prompts.push_back(s["prompt"].get<std::vector<int32_t>>());
    greedy.push_back(s["greedy"].get<std::vector<int32_t>>());
    strict.push_back(s["bf16_strict_greedy_prefix"].get<size_t>());
  }
  EngineOptions o = fast_options(GetParam());
  o.prefill_chunk = 7;  // prompts of 8..40 tokens go in several chunks, mixed with decodes
  Engine engine(tiny_model_dir(), o);
  GenerateOptions g;
  g.max_tokens = static_cast<int>(*std::max_element(strict.begin(), strict.end()));
  const auto results = engine.generate_batch(prompts, g);
  ASSERT_EQ(results.size(), prompts.size());
  size_t checked = 0;
  for (size_t i = 0; i < results.size(); ++i) {
    ASSERT_GE(results[i].tokens.size(), strict[i]) << "prompt " << i;
    const std::vector<int32_t> want(greedy[i].begin(), greedy[i].begin() + static_cast<long>(strict[i]));
    const std::vector<int32_t> got(results[i].tokens.begin(), results[i].tokens.begin() + static_cast<long>(strict[i]));
    EXPECT_EQ(got, want) << "prompt " << i;
    checked += strict[i];
  }
  EXPECT_GT(checked, 0u) << "no sequence has a strict greedy prefix: nothing was judged";
}

INSTANTIATE_TEST_SUITE_P(Layouts, FastPrecision,
                         ::testing::Values(model::CheckpointLayout::kHF, model::CheckpointLayout::kOriginal),
                         [](const auto& info) { return std::string(layout_name(info.param)); });

}  // namespace
}  // namespace gossamer::worker
