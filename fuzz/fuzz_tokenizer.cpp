// The gpt-oss tokenizer (tokenizer/tokenizer.h) on arbitrary bytes: invalid UTF-8, huge
// runs, special-token text, and arbitrary ids to decode.
//
// Input: the text to encode, except that a first byte 0x01 asks for a huge run: byte 1
// gives the length in KiB (1..64) and the rest is the pattern repeated to that length, so
// a 10-byte corpus file can hold a 64 KiB run of spaces or digits. (Longer runs cost
// seconds per input under ASan and starve the search; the release build encodes a 4 MiB
// run of one letter in 1.7 s: docs/RELIABILITY.md, "Findings and fixes".)
// Properties: valid UTF-8 encodes and decodes back to the same bytes (specials as text or
// recognised); invalid UTF-8 is refused with kInvalidArgument; decoding arbitrary ids
// refuses only undefined ids, and the streaming decoder's pieces add up to decode_text.
#include <cstring>
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "tokenizer/stream.h"

using namespace gossamer;

namespace {

std::string input_text(const uint8_t* data, size_t size) {
  if (size >= 3 && data[0] == 0x01) {
    const size_t want = (size_t{data[1]} % 64 + 1) * 1024;
    const std::string_view pattern = fuzz::as_text(data + 2, size - 2);
    std::string out;
    out.reserve(want + pattern.size());
    while (out.size() < want) out += pattern;
    return out;
  }
  return std::string(fuzz::as_text(data, size));
}

bool is_valid_utf8(std::string_view s) {
  // The encoder's own rule is the one under test; this is an independent check.
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1F) : n == 3 ? (c & 0x0F) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      const auto cc = static_cast<uint8_t>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return false;
    i += n;
  }
  return true;
}

void check_encode(const Tokenizer& tok, const std::string& text, SpecialTokens specials) {
  const bool valid = is_valid_utf8(text);
  std::vector<uint32_t> ids;
  try {
    ids = tok.encode(text, specials);
  } catch (const gossamer::Error& e) {
    if (valid || e.code() != ErrorCode::kInvalidArgument)
      fuzz::finding("encode refused", std::string(e.what()) + (valid ? " (input is valid UTF-8)" : ""));
    return;
  } catch (const std::exception& e) {
    fuzz::finding("encode threw", e.what());
  }
  if (!valid) fuzz::finding("encode accepted invalid UTF-8", std::to_string(text.size()) + " bytes");
  for (uint32_t id : ids)
    if (!tok.contains(id)) fuzz::finding("encode produced an undefined id", std::to_string(id));
  if (tok.decode(ids) != text) fuzz::finding("decode(encode(text)) != text", text.substr(0, 200));
}

void check_decode(const Tokenizer& tok, const uint8_t* data, size_t size) {
  // 3 bytes per id, spread a little past the vocabulary so undefined ids occur.
  std::vector<uint32_t> ids;
  for (size_t i = 0; i + 3 <= size && ids.size() < 512; i += 3)
    ids.push_back((uint32_t{data[i]} << 16 | uint32_t{data[i + 1]} << 8 | data[i + 2]) % (tok.id_limit() + 64));
  bool all_defined = true;
  for (uint32_t id : ids) all_defined &= tok.contains(id);
  std::string whole;
  fuzz::expect_named_errors([&] { whole = tok.decode_text(ids); });
  if (!all_defined) return;
  IncrementalDecoder stream(tok);
  std::string pieces;
  fuzz::expect_named_errors([&] {
    for (uint32_t id : ids) pieces += stream.push(id);
    pieces += stream.flush();
  });
  if (pieces != whole) fuzz::finding("streamed decode != decode_text", whole.substr(0, 200));
  if (!is_valid_utf8(pieces)) fuzz::finding("streamed decode is not valid UTF-8", pieces.substr(0, 200));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::real_tokenizer();  // load once, outside the timed runs
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const Tokenizer& tok = fuzz::real_tokenizer();
  const std::string text = input_text(data, size);
  check_encode(tok, text, SpecialTokens::kAsText);
  check_encode(tok, text, SpecialTokens::kRecognise);
  check_decode(tok, data, size);
  return 0;
}
