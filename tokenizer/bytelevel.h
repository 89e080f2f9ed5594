#pragma once
// GPT-2's byte-level alphabet: HF's ByteLevel pre-tokenizer maps each byte to a printable
// code point (bytes 33..126, 161..172, 174..255 map to themselves, the other 68 bytes to
// U+0100 upward) so that vocabulary entries are valid strings. We only need the reverse,
// to turn tokenizer.json's vocabulary back into the raw bytes BPE works on.
#include <optional>
#include <string>
#include <string_view>

namespace gossamer::tok {

// Raw bytes of a byte-level vocabulary entry, or nullopt if it holds a character outside
// the 256-character alphabet (or is not valid UTF-8).
std::optional<std::string> bytelevel_decode(std::string_view token);

// The byte-level spelling of raw bytes (the inverse of bytelevel_decode).
std::string bytelevel_encode(std::string_view bytes);

}  // namespace gossamer::tok
