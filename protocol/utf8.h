#pragma once
// UTF-8 validation (RFC 3629): rejects overlong forms, surrogates (U+D800..U+DFFF),
// code points above U+10FFFF and truncated sequences. The front door runs it on every
// frame before JSON parsing so that bad bytes get `invalid_utf8`, not a vague `bad_json`.
#include <cstddef>
#include <string_view>

namespace gossamer::protocol {

// Byte offset of the first invalid sequence, or npos when `s` is valid UTF-8.
size_t find_invalid_utf8(std::string_view s);

inline bool is_valid_utf8(std::string_view s) { return find_invalid_utf8(s) == std::string_view::npos; }

}  // namespace gossamer::protocol
