#pragma once
// Field readers shared by the parsers. Each names the offending field by its path
// ("params.top_p", "messages[2].role") so a bad_request says exactly what to fix.
// They throw FieldError internally; the public parse functions catch it and return a
// Result, so no exception leaves the protocol library.
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "protocol/error.h"

namespace gossamer::protocol::detail {

using json = nlohmann::json;

struct FieldError {
  ErrorCode code;
  std::string message;
};

[[noreturn]] void fail(ErrorCode code, std::string message);
[[noreturn]] void bad(const std::string& path, std::string_view what);  // bad_request

std::string field_path(const std::string& parent, std::string_view key);  // "a.b" or "b"
std::string index_path(const std::string& parent, size_t i);              // "a[3]"

// bad_request naming the first key of `obj` not in `allowed`.
void reject_unknown_fields(const json& obj, const std::string& path,
                           std::initializer_list<std::string_view> allowed);

// The member, or nullptr when absent or JSON null (null means "not given", as OpenAI
// clients send it for optional fields).
const json* find(const json& obj, std::string_view key);

const json& require(const json& obj, std::string_view key, const std::string& path);
std::string as_string(const json& v, const std::string& path);
std::string as_nonempty_string(const json& v, const std::string& path);
int64_t as_int(const json& v, const std::string& path);
uint64_t as_uint(const json& v, const std::string& path);
double as_finite_number(const json& v, const std::string& path);  // rejects +-inf
bool as_bool(const json& v, const std::string& path);
const json& as_object(const json& v, const std::string& path);
const json& as_array(const json& v, const std::string& path);

// Deepest nesting of arrays/objects in a JSON text, scanning outside strings. Lets the
// parser refuse pathological nesting before building a tree for it.
size_t json_nesting_depth(std::string_view text);
// The JSON library's exception text without its "[json.exception.parse_error.101] " tag:
// clients get the reason, not our library's internals.
std::string json_error_text(const std::exception& e);

}  // namespace gossamer::protocol::detail
