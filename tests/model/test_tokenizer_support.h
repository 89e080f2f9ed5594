#pragma once
// Shared by the tokenizer and harmony tests: the real gpt-oss tokenizer.json (fetched by
// scripts/setup.sh), loaded once per test binary, and the golden-case files.
#include <gtest/gtest.h>

#include <string>

#include "tokenizer/tokenizer.h"

namespace gossamer::tok_test {

// The real tokenizer, or nullptr with `why` explaining where it was looked for.
// Located via $GOSSAMER_TOKENIZER, else <repo>/.cache/tokenizer-gptoss/tokenizer.json.
const Tokenizer* real_tokenizer(std::string* why);

std::string test_data_path(const std::string& relative);  // under tests/data
std::string read_text_file(const std::string& path);

// Fixture for tests that need the real tokenizer: a missing file FAILS (CI always runs
// setup first, so a skip would hide a broken set-up).
class RealTokenizerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    tok_ = real_tokenizer(&why);
    ASSERT_NE(tok_, nullptr) << why;
  }
  const Tokenizer& tok() const { return *tok_; }

 private:
  const Tokenizer* tok_ = nullptr;
};

}  // namespace gossamer::tok_test
