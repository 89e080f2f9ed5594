#pragma once
// What a HF tokenizer.json says, reduced to what a byte-level BPE tokenizer needs: the
// split regex, the rank table (vocabulary bytes by id) and the added tokens. Anything the
// file asks for that we do not implement (a normalizer, byte fallback, prefix spaces,
// lstrip/rstrip added tokens, ...) is refused with kUnsupported rather than ignored, so a
// different tokenizer can never be silently mis-encoded.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "tokenizer/bpe_ranks.h"

namespace gossamer::tok {

struct AddedToken {
  uint32_t id = 0;
  std::string content;   // matched verbatim in text; decodes to itself
  bool special = true;   // special tokens can be turned off (encode as plain text)
};

struct TokenizerSpec {
  std::string source;            // file name, for messages
  std::string split_pattern;     // the Split pre-tokenizer's regex, HF syntax
  bool whole_piece_first = true; // BPE "ignore_merges": a piece that is a token is not merged
  BpeRanks ranks;                // [id] = bytes, for ids of model.vocab
  std::vector<AddedToken> added; // sorted by id
};

// Parses tokenizer.json text. Throws kCorruptData (malformed file) or kUnsupported.
TokenizerSpec parse_tokenizer_spec(std::string_view json_text, const std::string& source);

// Reads and parses a tokenizer.json file. Throws kNotFound / kIo on file errors.
TokenizerSpec load_tokenizer_spec(const std::string& path);

}  // namespace gossamer::tok
