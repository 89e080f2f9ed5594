#pragma once
// Streaming detokenization: ids arrive one at a time while a model generates, and a
// character may be split over several tokens (most CJK characters and emoji are). The
// decoder holds back an unfinished UTF-8 sequence until its last byte arrives, so every
// string it returns is valid UTF-8 and concatenating them gives the same text as decoding
// all ids at once (with U+FFFD where the bytes can never form a character).
#include <cstdint>
#include <string>

#include "tokenizer/tokenizer.h"

namespace gossamer {

class IncrementalDecoder {
 public:
  explicit IncrementalDecoder(const Tokenizer& tok) : tok_(tok) {}

  // Adds one id; returns the text completed by it (possibly empty). An id the tokenizer
  // does not define throws kInvalidArgument and leaves the decoder unchanged.
  std::string push(uint32_t id);
  // Adds raw bytes (e.g. a special token's text the caller chose to show).
  std::string push_bytes(std::string_view bytes);
  // Ends the stream: returns the held-back bytes, an unfinished character as U+FFFD.
  std::string flush();
  // Bytes held back, waiting for the rest of a character.
  size_t pending() const { return pending_.size(); }

 private:
  Tokenizer tok_;
  std::string pending_;
};

}  // namespace gossamer
