#define PCRE2_CODE_UNIT_WIDTH 8
#include "tokenizer/pretokenizer.h"

#include <pcre2.h>

#include "core/error.h"

namespace gossamer::tok {
namespace {

// Unicode White_Space, the set `\s` means in Oniguruma and Rust's regex crate.
constexpr std::string_view kWhiteSpace =
    "\\t\\n\\x{0B}\\f\\r \\x{85}\\x{A0}\\x{1680}\\x{2000}-\\x{200A}\\x{2028}\\x{2029}"
    "\\x{202F}\\x{205F}\\x{3000}";

std::string pcre2_error_text(int code) {
  PCRE2_UCHAR buf[256];
  pcre2_get_error_message(code, buf, sizeof buf);
  return reinterpret_cast<const char*>(buf);
}

}  // namespace

std::string pcre2_pattern_from_hf(std::string_view p) {
  std::string out;
  out.reserve(p.size() * 2);
  bool in_class = false;
  for (size_t i = 0; i < p.size(); ++i) {
    const char c = p[i];
    if (c == '\\' && i + 1 < p.size()) {
      const char e = p[i + 1];
      ++i;
      if (e == 's') {
        if (in_class) {
          out += kWhiteSpace;
        } else {
          out += '[';
          out += kWhiteSpace;
          out += ']';
        }
      } else if (e == 'S' && !in_class) {
        out += "[^";
        out += kWhiteSpace;
        out += ']';
      } else if (e == 'S') {
        GOSSAMER_THROW(kUnsupported, "split pattern uses \\S inside a character class: {}", p);
      } else {
        out += '\\';
        out += e;
      }
      continue;
    }
    if (!in_class && c == '[') {
      in_class = true;
      out += c;
      // A ']' right after '[' or '[^' is a literal, not the end of the class.
      if (i + 1 < p.size() && p[i + 1] == '^') out += p[++i];
      if (i + 1 < p.size() && p[i + 1] == ']') out += p[++i];
      continue;
    }
    if (in_class && c == ']') in_class = false;
    out += c;
  }
  return out;
}

PreTokenizer::PreTokenizer(std::string_view hf_pattern) : pattern_(pcre2_pattern_from_hf(hf_pattern)) {
  int err = 0;
  PCRE2_SIZE err_offset = 0;
  code_ = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern_.data()), pattern_.size(),
                        PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &err_offset, nullptr);
  if (code_ == nullptr) {
    GOSSAMER_THROW(kInvalidArgument, "split pattern does not compile at offset {}: {} (pattern: {})",
                   err_offset, pcre2_error_text(err), hf_pattern);
  }
  // JIT is an optimisation: where the platform lacks it, the interpreter gives the same pieces.
  jit_ = pcre2_jit_compile(code_, PCRE2_JIT_COMPLETE) == 0;
}

PreTokenizer::~PreTokenizer() { pcre2_code_free(code_); }

PieceSplitter::PieceSplitter(const PreTokenizer& pre) : pre_(&pre) {
  match_ = pcre2_match_data_create_from_pattern(pre.code(), nullptr);
  context_ = pcre2_match_context_create(nullptr);
  // Long whitespace runs backtrack through the look-ahead; give the JIT room to do so
  // instead of failing on a 10 MB input (the stack grows on demand up to the maximum).
  stack_ = pcre2_jit_stack_create(32 * 1024, 64 * 1024 * 1024, nullptr);
  if (match_ == nullptr || context_ == nullptr || stack_ == nullptr) {
    pcre2_match_data_free(match_);
    pcre2_match_context_free(context_);
    pcre2_jit_stack_free(stack_);
    GOSSAMER_THROW(kInternal, "PCRE2 could not allocate match state");
  }
  pcre2_jit_stack_assign(context_, nullptr, stack_);
  // The default limit (10 million backtracks) fails a 10 MB whitespace run: `\s*[\r\n]+`
  // scans the run once before the next branch matches it. Every branch of a split
  // pattern is linear per match, so lift the limit instead.
  pcre2_set_match_limit(context_, 0xFFFFFFFFu);
}

PieceSplitter::~PieceSplitter() {
  pcre2_match_data_free(match_);
  pcre2_match_context_free(context_);
  pcre2_jit_stack_free(stack_);
}

void PieceSplitter::reset(std::string_view text) {
  text_ = text;
  pos_ = 0;
  pending_ = false;
}

bool PieceSplitter::next(std::string_view& piece) {
  if (pending_) {
    pending_ = false;
    piece = text_.substr(match_begin_, match_end_ - match_begin_);
    pos_ = match_end_;
    return true;
  }
  if (pos_ >= text_.size()) return false;
  const auto* subject = reinterpret_cast<PCRE2_SPTR>(text_.data());
  int rc;
  if (pre_->jit()) {
    rc = pcre2_jit_match(pre_->code(), subject, text_.size(), pos_, PCRE2_NO_UTF_CHECK, match_, context_);
  } else {
    rc = pcre2_match(pre_->code(), subject, text_.size(), pos_, PCRE2_NO_UTF_CHECK, match_, context_);
  }
  if (rc == PCRE2_ERROR_NOMATCH) {
    piece = text_.substr(pos_);  // trailing gap
    pos_ = text_.size();
    return true;
  }
  if (rc < 0) GOSSAMER_THROW(kInternal, "PCRE2 match failed: {}", pcre2_error_text(rc));
  const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(match_);
  size_t begin = ov[0], end = ov[1];
  if (end == begin) {
    // An empty match (not possible with the o200k pattern) would loop; HF drops it, so
    // the text up to the next character joins the following gap.
    size_t step = pos_ + 1;
    while (step < text_.size() && (static_cast<unsigned char>(text_[step]) & 0xC0) == 0x80) ++step;
    if (begin > pos_) {
      piece = text_.substr(pos_, begin - pos_);
      pos_ = begin;
      return true;
    }
    piece = text_.substr(pos_, step - pos_);
    pos_ = step;
    return true;
  }
  if (begin > pos_) {
    piece = text_.substr(pos_, begin - pos_);  // gap before the match is its own piece
    match_begin_ = begin;
    match_end_ = end;
    pending_ = true;
    return true;
  }
  piece = text_.substr(begin, end - begin);
  pos_ = end;
  return true;
}

}  // namespace gossamer::tok
