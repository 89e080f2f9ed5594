// The tokenize, detokenize and chat-template verbs of the gossamer binary, end to end on
// the golden files.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>
#include <unistd.h>

#include "tests/model/test_tokenizer_support.h"

namespace gossamer::tok_test {
namespace {

struct CliResult {
  int status;
  std::string out;
};

CliResult run(const std::string& args) {
  const std::string cmd = std::string(GOSSAMER_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return {-1, "popen failed"};
  std::string out;
  char buf[65536];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
  return {::pclose(p), out};
}

class TokenizerCli : public RealTokenizerTest {
 protected:
  void SetUp() override {
    RealTokenizerTest::SetUp();
    ASSERT_TRUE(std::filesystem::exists(GOSSAMER_BINARY)) << "build the gossamer binary first: " << GOSSAMER_BINARY;
    tmp_ = std::filesystem::temp_directory_path() / ("gossamer_cli_" + std::to_string(::getpid()));
    std::filesystem::create_directories(tmp_);
  }
  void TearDown() override { std::filesystem::remove_all(tmp_); }
  std::string tokenizer_arg() const { return "--tokenizer '" + tok().source() + "'"; }
  std::filesystem::path tmp_;
};

TEST_F(TokenizerCli, JsonlInGivesIdsOutInOrder) {
  const std::string golden = test_data_path("tokenizer/encode_cases.jsonl");
  const CliResult r = run("tokenize " + tokenizer_arg() + " --jsonl '" + golden + "'");
  ASSERT_EQ(r.status, 0) << r.out;
  std::istringstream want(read_text_file(golden)), got(r.out);
  std::string w, g;
  size_t lines = 0;
  while (std::getline(want, w)) {
    ASSERT_TRUE(std::getline(got, g)) << "output ended after " << lines << " lines";
    EXPECT_EQ(nlohmann::json::parse(g)["ids"], nlohmann::json::parse(w)["ids"]) << "line " << lines + 1;
    ++lines;
  }
  EXPECT_EQ(lines, 207u);
}

TEST_F(TokenizerCli, TextAndDetokenize) {
  CliResult r = run("tokenize " + tokenizer_arg() + " --text 'Hello world<|end|>'");
  EXPECT_EQ(r.out, "{\"ids\":[13225,2375,200007]}\n");
  r = run("tokenize " + tokenizer_arg() + " --plain --text '<|end|>'");
  EXPECT_EQ(r.out, "{\"ids\":[27,91,419,91,29]}\n");
  r = run("detokenize " + tokenizer_arg() + " --ids 13225,2375,200007");
  EXPECT_EQ(r.out, "Hello world<|end|>\n");
  r = run("detokenize " + tokenizer_arg() + " --ids 13225,x");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("not a token id"), std::string::npos) << r.out;
  r = run("detokenize " + tokenizer_arg() + " --ids 300000");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("not defined"), std::string::npos) << r.out;
}

TEST_F(TokenizerCli, BadInputIsAClearError) {
  std::ofstream(tmp_ / "bad.jsonl") << "{\"text\": \"ok\"}\n{\"txt\": 1}\n";
  CliResult r = run("tokenize " + tokenizer_arg() + " --jsonl '" + (tmp_ / "bad.jsonl").string() + "'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("line 2"), std::string::npos) << r.out;
  std::ofstream(tmp_ / "latin1.jsonl", std::ios::binary) << "{\"text\": \"caf\xe9\"}\n";
  r = run("tokenize " + tokenizer_arg() + " --jsonl '" + (tmp_ / "latin1.jsonl").string() + "'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("line 1"), std::string::npos) << r.out;
  r = run("tokenize --tokenizer /nonexistent.json --text hi");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("not found"), std::string::npos) << r.out;
}

TEST_F(TokenizerCli, ChatTemplateMatchesGolden) {
  const auto cases = nlohmann::ordered_json::parse(read_text_file(test_data_path("harmony/render_cases.json")));
  for (const auto& c : cases) {
    const auto path = tmp_ / (c["name"].get<std::string>() + ".json");
    std::ofstream(path) << c["input"].dump();
    const CliResult r = run("chat-template " + tokenizer_arg() + " --input '" + path.string() + "'");
    ASSERT_EQ(r.status, 0) << r.out;
    const auto out = nlohmann::json::parse(r.out);
    EXPECT_EQ(out["rendered"], c["rendered"]) << c["name"];
    EXPECT_EQ(out["ids"], c["ids"]) << c["name"];
  }
  std::ofstream(tmp_ / "bad.json") << R"({"messages": [{"role": "robot", "content": "x"}]})";
  const CliResult r = run("chat-template " + tokenizer_arg() + " --input '" + (tmp_ / "bad.json").string() + "'");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.out.find("robot"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace gossamer::tok_test
