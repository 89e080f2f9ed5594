// The engine against the golden logits of OpenAI's reference (fp32) on the tiny model:
// every position of every sequence within 1e-3, identical greedy continuations, from both
// checkpoint layouts (tests/data/tiny; docs/MODEL.md, "Numerics and golden data").
#include <gtest/gtest.h>

#include "golden_data.h"
#include "worker/engine.h"

namespace gossamer::worker {
namespace {

using gossamer::testing::read_f32_file;
using gossamer::testing::row_max_abs;
using gossamer::testing::tiny_data_dir;
using gossamer::testing::tiny_manifest;
using gossamer::testing::tiny_model_dir;

constexpr double kMaxAbs = 1e-3;  // manifest tolerances.fp32_engine

class GoldenLogits : public ::testing::TestWithParam<model::CheckpointLayout> {
 protected:
  EngineOptions options() const {
    EngineOptions o;
    o.layout = GetParam();
    o.threads = 2;
    o.max_context = 1024;
    return o;
  }
};

TEST_P(GoldenLogits, EveryPositionOfEveryPrompt) {
  Engine engine(tiny_model_dir(), options());
  const int64_t V = engine.config().vocab_size;
  for (const auto& s : tiny_manifest()["sequences"]) {
    const auto tokens = s["tokens"].get<std::vector<int32_t>>();
    const auto golden = read_f32_file(tiny_data_dir() + "/golden/" + s["files"]["ref_fp32"].get<std::string>());
    ASSERT_EQ(golden.size(), tokens.size() * static_cast<size_t>(V));
    const int64_t seq = engine.open_sequence();
    std::vector<float> logits;
    engine.feed(seq, tokens, true, logits);
    engine.close_sequence(seq);
    ASSERT_EQ(logits.size(), golden.size());
    for (size_t t = 0; t < tokens.size(); ++t) {
      const double err = row_max_abs(logits.data() + t * V, golden.data() + t * V, V);
      EXPECT_LE(err, kMaxAbs) << "sequence " << s["id"] << " position " << t;
    }
  }
}

TEST_P(GoldenLogits, GreedyContinuations) {
  Engine engine(tiny_model_dir(), options());
  for (const auto& s : tiny_manifest()["sequences"]) {
    GenerateOptions g;
    g.max_tokens = static_cast<int>(s["greedy"].size());
    auto result = engine.generate(s["prompt"].get<std::vector<int32_t>>(), g);
    EXPECT_EQ(result.tokens, s["greedy"].get<std::vector<int32_t>>()) << "sequence " << s["id"];
    EXPECT_EQ(result.finish_reason, "length");
  }
}

TEST_P(GoldenLogits, LongSequence640) {
  const auto& ls = tiny_manifest()["long_sequence"];
  const auto tokens = ls["tokens"].get<std::vector<int32_t>>();
  const auto positions = ls["logit_positions"].get<std::vector<int64_t>>();
  ASSERT_EQ(tokens.size(), 640u);
  Engine engine(tiny_model_dir(), options());
  const int64_t V = engine.config().vocab_size;
  const auto golden = read_f32_file(tiny_data_dir() + "/golden/" + ls["files"]["ref_fp32"].get<std::string>());
  ASSERT_EQ(golden.size(), positions.size() * static_cast<size_t>(V));
  const int64_t seq = engine.open_sequence();
  std::vector<float> logits;
  engine.feed(seq, tokens, true, logits);
  for (size_t j = 0; j < positions.size(); ++j) {
    const double err = row_max_abs(logits.data() + positions[j] * V, golden.data() + j * V, V);
    EXPECT_LE(err, kMaxAbs) << "position " << positions[j];
  }
}

INSTANTIATE_TEST_SUITE_P(Layouts, GoldenLogits,
                         ::testing::Values(model::CheckpointLayout::kHF,
                                           model::CheckpointLayout::kOriginal),
                         [](const auto& info) {
                           return info.param == model::CheckpointLayout::kHF ? "hf" : "original";
                         });

}  // namespace
}  // namespace gossamer::worker
