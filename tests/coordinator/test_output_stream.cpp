// OutputStream with the real gpt-oss tokenizer: stop strings across token boundaries,
// UTF-8 held back until whole, harmony channels. The tokenizer comes from
// $GOSSAMER_TOKENIZER, else <repo>/.cache/tokenizer-gptoss (scripts/setup.sh fetches it);
// missing, the tests fail rather than skip, like tests/model's RealTokenizerTest.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "coordinator/output_stream.h"

namespace gossamer::coordinator {
namespace {

std::string tokenizer_path() {
  if (const char* env = std::getenv("GOSSAMER_TOKENIZER"); env != nullptr && *env != '\0') return env;
  return (std::filesystem::path(GOSSAMER_TEST_DATA) / ".." / ".." / ".cache" / "tokenizer-gptoss" /
          "tokenizer.json").lexically_normal().string();
}

// Loaded once per process (ctest runs this file's suite as one process), not per test.
const Tokenizer* tokenizer() {
  static const std::optional<Tokenizer> tok = [] {
    const std::string path = tokenizer_path();
    return std::filesystem::exists(path) ? std::optional<Tokenizer>(Tokenizer::load(path)) : std::nullopt;
  }();
  return tok ? &*tok : nullptr;
}

struct Run {
  std::string text, analysis;
  std::vector<int32_t> ids;
  std::optional<protocol::FinishReason> reason;
};

Run feed(OutputStream& out, const std::vector<uint32_t>& ids) {
  Run r;
  std::vector<OutputPiece> pieces;
  for (uint32_t id : ids) {
    r.reason = out.push(static_cast<int32_t>(id), pieces);
    if (r.reason) break;
  }
  if (!r.reason) out.finish(pieces);
  for (const auto& p : pieces) {
    (p.channel == protocol::Channel::kAnalysis ? r.analysis : r.text) += p.text;
    r.ids.insert(r.ids.end(), p.token_ids.begin(), p.token_ids.end());
  }
  return r;
}

TEST(OutputStream, StopStringAcrossTokensEndsBeforeIt) {
  const Tokenizer* tok = tokenizer();
  ASSERT_NE(tok, nullptr) << "no gpt-oss tokenizer at " << tokenizer_path() << " (run scripts/setup.sh)";
  const auto ids = tok->encode("Hello world, this is a test of stop strings.", SpecialTokens::kAsText);
  OutputStream out(*tok, {"is a t"}, false);
  auto r = feed(out, ids);
  ASSERT_TRUE(r.reason.has_value());
  EXPECT_EQ(*r.reason, protocol::FinishReason::kStop);
  EXPECT_EQ(r.text, "Hello world, this ");
  EXPECT_EQ(out.output().final, r.text);
}

TEST(OutputStream, MultiByteCharactersArriveWhole) {
  const Tokenizer* tok = tokenizer();
  ASSERT_NE(tok, nullptr) << "no gpt-oss tokenizer at " << tokenizer_path() << " (run scripts/setup.sh)";
  const std::string text = "héllo 日本語の文章 🙂🙂 end";
  const auto ids = tok->encode(text, SpecialTokens::kAsText);
  OutputStream out(*tok, {}, false);
  std::vector<OutputPiece> pieces;
  for (uint32_t id : ids) out.push(static_cast<int32_t>(id), pieces);
  out.finish(pieces);
  std::string all;
  size_t n_ids = 0;
  for (const auto& p : pieces) {
    // Every piece is whole UTF-8: no piece starts with a continuation byte.
    if (!p.text.empty()) {
      EXPECT_NE(static_cast<unsigned char>(p.text[0]) & 0xC0, 0x80);
    }
    all += p.text;
    n_ids += p.token_ids.size();
  }
  EXPECT_EQ(all, text);
  EXPECT_EQ(n_ids, ids.size());
}

TEST(OutputStream, HarmonyChannelsAndReturn) {
  const Tokenizer* tok = tokenizer();
  ASSERT_NE(tok, nullptr) << "no gpt-oss tokenizer at " << tokenizer_path() << " (run scripts/setup.sh)";
  const auto ids = tok->encode(
      "<|channel|>analysis<|message|>Think briefly.<|end|><|start|>assistant<|channel|>final<|message|>Paris.<|return|>",
      SpecialTokens::kRecognise);
  OutputStream out(*tok, {});
  auto r = feed(out, ids);
  ASSERT_TRUE(r.reason.has_value());
  EXPECT_EQ(*r.reason, protocol::FinishReason::kStop);
  EXPECT_EQ(r.analysis, "Think briefly.");
  EXPECT_EQ(r.text, "Paris.");
  EXPECT_EQ(r.ids.size(), ids.size());  // every id reached a piece
}

}  // namespace
}  // namespace gossamer::coordinator
