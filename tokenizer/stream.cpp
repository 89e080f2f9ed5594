#include "tokenizer/stream.h"

#include "tokenizer/utf8.h"

namespace gossamer {

std::string IncrementalDecoder::push(uint32_t id) {
  std::string bytes;
  tok_.append_bytes(id, bytes);  // throws before touching pending_
  return push_bytes(bytes);
}

std::string IncrementalDecoder::push_bytes(std::string_view bytes) {
  pending_.append(bytes.data(), bytes.size());
  const size_t ready = tok::complete_utf8_prefix(pending_);
  if (ready == 0) return {};
  std::string out = tok::to_valid_utf8(std::string_view(pending_).substr(0, ready));
  pending_.erase(0, ready);
  return out;
}

std::string IncrementalDecoder::flush() {
  std::string out = tok::to_valid_utf8(pending_);
  pending_.clear();
  return out;
}

}  // namespace gossamer
