// Loading tokenizer.json: small synthetic files for what we refuse (anything we would
// otherwise encode wrongly) and where the tokenizer is looked for.
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "core/error.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/locate.h"
#include "tokenizer/bytelevel.h"

namespace gossamer::tok_test {
namespace {

using nlohmann::json;

// A byte-level BPE over all 256 bytes plus "ab", with one special token.
json tiny_tokenizer() {
  json vocab = json::object();
  for (int b = 0; b < 256; ++b) vocab[tok::bytelevel_encode(std::string(1, static_cast<char>(b)))] = b;
  vocab["ab"] = 256;
  return json{{"normalizer", nullptr},
              {"pre_tokenizer", {{"type", "Sequence"}, {"pretokenizers", json::array({
                  {{"type", "Split"}, {"pattern", {{"Regex", "\\p{L}+|\\s+|[^\\s\\p{L}]+"}}}, {"behavior", "Isolated"}, {"invert", false}},
                  {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}})}}},
              {"model", {{"type", "BPE"}, {"ignore_merges", true}, {"vocab", vocab}, {"merges", json::array({json::array({"a", "b"})})}}},
              {"added_tokens", json::array({{{"id", 257}, {"content", "<|x|>"}, {"special", true}}})}};
}

Tokenizer load(const json& j) { return Tokenizer::from_json(j.dump(), "tiny.json"); }

TEST(TokenizerSpec, TinyTokenizerWorks) {
  const Tokenizer t = load(tiny_tokenizer());
  EXPECT_EQ(t.encode("abab<|x|>", SpecialTokens::kRecognise), (std::vector<uint32_t>{256, 256, 257}));
  EXPECT_EQ(t.encode("ba", SpecialTokens::kAsText), (std::vector<uint32_t>{'b', 'a'}));
  EXPECT_EQ(t.decode(std::vector<uint32_t>{256, 257}), "ab<|x|>");
}

ErrorCode code_of(const json& j) {
  try {
    load(j);
  } catch (const Error& e) {
    return e.code();
  }
  return ErrorCode::kInternal;  // "did not throw"
}

TEST(TokenizerSpec, RefusesWhatItCannotEncodeExactly) {
  json j = tiny_tokenizer();
  j["normalizer"] = {{"type", "NFC"}};
  EXPECT_EQ(code_of(j), ErrorCode::kUnsupported);
  j = tiny_tokenizer();
  j["model"]["type"] = "WordPiece";
  EXPECT_EQ(code_of(j), ErrorCode::kUnsupported);
  j = tiny_tokenizer();
  j["model"]["byte_fallback"] = true;
  EXPECT_EQ(code_of(j), ErrorCode::kUnsupported);
  j = tiny_tokenizer();
  j["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true;
  EXPECT_EQ(code_of(j), ErrorCode::kUnsupported);
  j = tiny_tokenizer();
  j["added_tokens"][0]["lstrip"] = true;
  EXPECT_EQ(code_of(j), ErrorCode::kUnsupported);
  j = tiny_tokenizer();
  j["model"]["vocab"]["b"] = 5000;  // merges must follow token ids; make "ab" older than a part
  j["model"]["vocab"]["zz"] = 1;
  EXPECT_NE(code_of(j), ErrorCode::kInternal);
}

TEST(TokenizerSpec, CorruptFilesAreClearErrors) {
  EXPECT_THROW(Tokenizer::from_json("{not json", "bad.json"), Error);
  EXPECT_THROW(Tokenizer::from_json("[]", "bad.json"), Error);
  json j = tiny_tokenizer();
  j["model"]["merges"] = json::array({json::array({"x", "y"})});  // makes no token
  EXPECT_EQ(code_of(j), ErrorCode::kCorruptData);
  j = tiny_tokenizer();
  j["pre_tokenizer"]["pretokenizers"][0]["pattern"]["Regex"] = "(unclosed";
  EXPECT_EQ(code_of(j), ErrorCode::kInvalidArgument);
  try {
    Tokenizer::load("/nonexistent/tokenizer.json");
    ADD_FAILURE();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
  }
}

TEST(TokenizerLocate, ExplicitThenModelDirThenEnvironment) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path() / ("gossamer_locate_" + std::to_string(::getpid()));
  fs::create_directories(dir / "model");
  std::ofstream(dir / "model" / "tokenizer.json") << "{}";
  std::ofstream(dir / "explicit.json") << "{}";
  EXPECT_EQ(locate_tokenizer({(dir / "explicit.json").string(), (dir / "model").string()}), (dir / "explicit.json").string());
  EXPECT_EQ(locate_tokenizer({"", (dir / "model").string()}), (dir / "model" / "tokenizer.json").string());
  EXPECT_EQ(locate_tokenizer({(dir / "model").string(), ""}), (dir / "model" / "tokenizer.json").string());
  EXPECT_THROW(locate_tokenizer({(dir / "missing.json").string(), ""}), Error);
  const char* old = std::getenv("GOSSAMER_TOKENIZER");
  const std::string saved = old ? old : "";
  ::setenv("GOSSAMER_TOKENIZER", (dir / "explicit.json").c_str(), 1);
  EXPECT_EQ(locate_tokenizer({"", (dir / "no_model_here").string()}), (dir / "explicit.json").string());
  if (old) ::setenv("GOSSAMER_TOKENIZER", saved.c_str(), 1); else ::unsetenv("GOSSAMER_TOKENIZER");
  fs::remove_all(dir);
}

}  // namespace
}  // namespace gossamer::tok_test
