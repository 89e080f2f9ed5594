#pragma once
// The gpt-oss tokenizer: byte-level BPE read from a HF tokenizer.json (o200k ranks, the
// o200k split regex, harmony's special tokens). Encoding matches HF `tokenizers` and
// tiktoken id for id; decoding returns the exact bytes.
//
// A Tokenizer is an immutable, cheaply copyable handle (shared state): load it once and
// share it between threads. Encoding keeps a small per-thread scratch (regex match state
// and a cache of merged pieces), so concurrent encodes never contend on a lock.
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace gossamer {

// Whether text like "<|start|>" becomes the special token or is spelled out as plain
// text. Recognise it in prompts the server builds itself; never in text a user typed.
enum class SpecialTokens { kRecognise, kAsText };

class Tokenizer {
 public:
  // Loads tokenizer.json. Throws kNotFound / kIo / kCorruptData / kUnsupported.
  static Tokenizer load(const std::string& path);
  // Same, from the file's text; `source` names it in error messages.
  static Tokenizer from_json(std::string_view json_text, const std::string& source = "<tokenizer.json>");

  // Encodes UTF-8 text; invalid UTF-8 throws kInvalidArgument with the byte offset.
  std::vector<uint32_t> encode(std::string_view text, SpecialTokens specials) const;
  // Appends to `out` instead (no allocation when `out` has room).
  void encode_append(std::string_view text, SpecialTokens specials, std::vector<uint32_t>& out) const;

  // The exact bytes of the ids, special tokens spelled as their text. May be invalid
  // UTF-8 when the ids cut a character; see decode_text and IncrementalDecoder.
  // An id the tokenizer does not define throws kInvalidArgument.
  std::string decode(std::span<const uint32_t> ids) const;
  // decode, with ill-formed UTF-8 replaced by U+FFFD (what HF's decode returns).
  std::string decode_text(std::span<const uint32_t> ids) const;
  void append_bytes(uint32_t id, std::string& out) const;

  bool contains(uint32_t id) const;     // defined by the vocabulary or as an added token
  bool is_special(uint32_t id) const;   // an added token marked special (<|start|>, ...)
  // The id whose text is exactly `text` (an added token's content, or a vocabulary entry's
  // bytes), if any.
  std::optional<uint32_t> find_token(std::string_view text) const;
  // The id of a special token such as "<|start|>"; throws kNotFound if the file lacks it.
  uint32_t special_id(std::string_view content) const;
  uint32_t id_limit() const;            // one past the largest defined id
  const std::string& source() const;    // the file it was loaded from

  struct Impl;

 private:
  explicit Tokenizer(std::shared_ptr<const Impl> impl) : impl_(std::move(impl)) {}
  std::shared_ptr<const Impl> impl_;
};

}  // namespace gossamer
