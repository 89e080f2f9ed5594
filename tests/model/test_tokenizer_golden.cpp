// The 207 golden encode cases: ids that two independent implementations of the gpt-oss
// tokenizer agree on (tests/data/tokenizer/encode_cases.jsonl), and exact round trips.
#include <nlohmann/json.hpp>

#include <sstream>

#include "tests/model/test_tokenizer_support.h"

namespace gossamer::tok_test {
namespace {

struct EncodeCase {
  std::string text;
  std::vector<uint32_t> ids;
  bool roundtrip = true;
};

std::vector<EncodeCase> load_cases() {
  std::vector<EncodeCase> cases;
  std::istringstream in(read_text_file(test_data_path("tokenizer/encode_cases.jsonl")));
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    auto j = nlohmann::json::parse(line);
    cases.push_back({j.at("text").get<std::string>(), j.at("ids").get<std::vector<uint32_t>>(),
                     j.value("roundtrip", true)});
  }
  return cases;
}

class GoldenEncode : public RealTokenizerTest {};

TEST_F(GoldenEncode, AllCasesMatchIdForId) {
  const auto cases = load_cases();
  ASSERT_EQ(cases.size(), 207u) << "golden file tokenizer/encode_cases.jsonl changed size";
  size_t mismatches = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto ids = tok().encode(cases[i].text, SpecialTokens::kRecognise);
    if (ids != cases[i].ids) {
      ++mismatches;
      ADD_FAILURE() << "case " << i << " text " << nlohmann::json(cases[i].text).dump() << "\n  got  "
                    << nlohmann::json(ids).dump() << "\n  want " << nlohmann::json(cases[i].ids).dump();
    }
  }
  EXPECT_EQ(mismatches, 0u);
}

TEST_F(GoldenEncode, DecodeOfEncodeIsIdentity) {
  for (const auto& c : load_cases()) {
    if (!c.roundtrip) continue;
    EXPECT_EQ(tok().decode(tok().encode(c.text, SpecialTokens::kRecognise)), c.text);
    // Spelled-out specials round-trip too: the text comes back byte for byte.
    EXPECT_EQ(tok().decode(tok().encode(c.text, SpecialTokens::kAsText)), c.text);
  }
}

TEST_F(GoldenEncode, GoldenIdsDecodeToText) {
  for (const auto& c : load_cases()) {
    if (c.roundtrip) {
      EXPECT_EQ(tok().decode(c.ids), c.text);
    }
  }
}

}  // namespace
}  // namespace gossamer::tok_test
