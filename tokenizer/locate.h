#pragma once
// Where the tokenizer comes from, decided in one place for every verb (tokenize,
// chat-template, generate, serve):
//   1. an explicit --tokenizer PATH (a tokenizer.json, or a folder holding one) wins;
//   2. else the model directory's own tokenizer.json, when --model DIR has one;
//   3. else $GOSSAMER_TOKENIZER;
//   4. else the copy scripts/setup.sh fetched: .cache/tokenizer-gptoss/tokenizer.json in
//      the working directory or a parent of it or of the running executable.
#include <string>

namespace gossamer {

struct TokenizerSearch {
  std::string explicit_path;  // --tokenizer, may be empty
  std::string model_dir;      // --model, may be empty
};

// The path of the tokenizer.json to load. Throws kNotFound naming every place it looked.
std::string locate_tokenizer(const TokenizerSearch& search);

}  // namespace gossamer
