#pragma once
// UTF-8 helpers shared by the tokenizer and harmony code. The tokenizer validates its input
// once up front so the regex engine can skip its own per-call check (PCRE2_NO_UTF_CHECK),
// and the streaming decoder uses the lead-byte rules to hold back a half character.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace gossamer::tok {

// Offset of the first byte that does not start a well-formed UTF-8 sequence (overlongs,
// surrogates and code points above U+10FFFF are ill-formed), or npos when all is valid.
size_t find_invalid_utf8(std::string_view s);

// Throws kInvalidArgument naming `what` and the byte offset when `s` is not valid UTF-8.
void require_valid_utf8(std::string_view s, std::string_view what);

// Length of the longest prefix of `s` that ends on a character boundary, treating a
// trailing incomplete (but so far well-formed) sequence as "not yet complete". Bytes that
// can never become valid are counted as complete, so a caller never waits forever.
size_t complete_utf8_prefix(std::string_view s);

// Replaces every ill-formed sequence with U+FFFD (one per maximal ill-formed subpart,
// as the Unicode standard recommends and as Python's errors="replace" does).
std::string to_valid_utf8(std::string_view s);

// Appends the UTF-8 encoding of code point `cp` (must be a valid scalar value).
void append_utf8(std::string& out, uint32_t cp);

// Decodes one code point at s[i], advancing i. Input must be valid UTF-8.
uint32_t next_code_point(std::string_view s, size_t& i);

}  // namespace gossamer::tok
