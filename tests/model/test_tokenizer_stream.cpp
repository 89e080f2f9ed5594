// Streaming detokenization never emits half a UTF-8 character, and its pieces add up to
// the one-shot decode.
#include "core/error.h"
#include "tokenizer/stream.h"
#include "tokenizer/utf8.h"
#include "tests/model/test_tokenizer_support.h"

namespace gossamer::tok_test {
namespace {

class IncrementalDecode : public RealTokenizerTest {};

TEST_F(IncrementalDecode, SplitCharactersAreHeldBack) {
  const std::string text = "Emoji 😀🇫🇷, 日本語, Ελληνικά, עברית, ﷽ and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢.";
  const auto ids = tok().encode(text, SpecialTokens::kAsText);
  IncrementalDecoder dec(tok());
  std::string joined;
  size_t held = 0;
  for (uint32_t id : ids) {
    const std::string piece = dec.push(id);
    EXPECT_EQ(tok::find_invalid_utf8(piece), std::string::npos);
    held += dec.pending() > 0;
    joined += piece;
  }
  joined += dec.flush();
  EXPECT_EQ(joined, text);
  EXPECT_GT(held, 0u) << "expected some characters to span tokens";
}

TEST_F(IncrementalDecode, UnfinishedCharacterFlushesAsReplacement) {
  std::vector<uint32_t> ids = tok().encode("𓀀", SpecialTokens::kAsText);  // 4 ids, one per byte
  ASSERT_GT(ids.size(), 1u);
  IncrementalDecoder dec(tok());
  EXPECT_EQ(dec.push(ids[0]), "");
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");
  EXPECT_EQ(dec.pending(), 0u);
}

TEST_F(IncrementalDecode, SpecialTokensAndUndefinedIds) {
  IncrementalDecoder dec(tok());
  EXPECT_EQ(dec.push(tok().special_id("<|start|>")), "<|start|>");
  EXPECT_THROW(dec.push(200500), Error);
  EXPECT_EQ(dec.push(13225), "Hello");
}

TEST(Utf8, ReplacementFollowsMaximalSubparts) {
  EXPECT_EQ(tok::to_valid_utf8(std::string("a\xe2\x82z", 4)), "a\xEF\xBF\xBDz");          // truncated 3-byte: one U+FFFD
  EXPECT_EQ(tok::to_valid_utf8(std::string("\xff\xfe", 2)), "\xEF\xBF\xBD\xEF\xBF\xBD");   // two bad bytes: two
  EXPECT_EQ(tok::complete_utf8_prefix(std::string("ab\xf0\x9f\x98", 5)), 2u);
  EXPECT_EQ(tok::complete_utf8_prefix(std::string("ab\x80", 3)), 3u);  // can never complete: not held
}

}  // namespace
}  // namespace gossamer::tok_test
