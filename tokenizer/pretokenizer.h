#pragma once
// The pre-tokenizer: splits text into pieces with the split regex of tokenizer.json (for
// gpt-oss the o200k pattern: Unicode classes, case-insensitive contractions, a look-ahead),
// HF "Split" with behavior "Isolated": every match is a piece and so is any gap between
// matches. Compiled once with PCRE2 in UTF + UCP mode and JIT-compiled.
#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

typedef struct pcre2_real_code_8 pcre2_code_8;
typedef struct pcre2_real_match_data_8 pcre2_match_data_8;
typedef struct pcre2_real_match_context_8 pcre2_match_context_8;
typedef struct pcre2_real_jit_stack_8 pcre2_jit_stack_8;

namespace gossamer::tok {

// Rewrites an Oniguruma/Rust-regex pattern for PCRE2 where their meanings differ: `\s` and
// `\S` become explicit Unicode White_Space classes, because PCRE2's UCP `\s` also matches
// U+180E (MONGOLIAN VOWEL SEPARATOR), which the HF and tiktoken engines do not.
std::string pcre2_pattern_from_hf(std::string_view pattern);

class PreTokenizer {
 public:
  // Throws kInvalidArgument when the pattern does not compile.
  explicit PreTokenizer(std::string_view hf_pattern);
  ~PreTokenizer();
  PreTokenizer(const PreTokenizer&) = delete;
  PreTokenizer& operator=(const PreTokenizer&) = delete;

  const std::string& pattern() const { return pattern_; }
  pcre2_code_8* code() const { return code_; }
  bool jit() const { return jit_; }

 private:
  std::string pattern_;
  pcre2_code_8* code_ = nullptr;
  bool jit_ = false;
};

// Walks the pieces of one text. Owns the per-thread match state (match data and a JIT
// stack), so create one per thread and reuse it across texts: setting it up costs more
// than matching a short text.
class PieceSplitter {
 public:
  explicit PieceSplitter(const PreTokenizer& pre);
  ~PieceSplitter();
  PieceSplitter(const PieceSplitter&) = delete;
  PieceSplitter& operator=(const PieceSplitter&) = delete;

  // Starts on `text`, which must be valid UTF-8 and outlive the walk.
  void reset(std::string_view text);
  // Next piece, or false at the end. Throws kInternal if the regex engine fails.
  bool next(std::string_view& piece);

  const PreTokenizer& pre() const { return *pre_; }

 private:
  const PreTokenizer* pre_;
  pcre2_match_data_8* match_ = nullptr;
  pcre2_match_context_8* context_ = nullptr;
  pcre2_jit_stack_8* stack_ = nullptr;
  std::string_view text_;
  size_t pos_ = 0;         // where the next search starts
  size_t match_begin_ = 0; // a match found past a gap, returned after the gap
  size_t match_end_ = 0;
  bool pending_ = false;
};

}  // namespace gossamer::tok
