#include "protocol/json_fields.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace gossamer::protocol::detail {

void fail(ErrorCode code, std::string message) { throw FieldError{code, std::move(message)}; }

void bad(const std::string& path, std::string_view what) {
  fail(ErrorCode::kBadRequest, path + ": " + std::string(what));
}

std::string field_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}

std::string index_path(const std::string& parent, size_t i) {
  return parent + "[" + std::to_string(i) + "]";
}

void reject_unknown_fields(const json& obj, const std::string& path,
                           std::initializer_list<std::string_view> allowed) {
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    bool known = false;
    for (std::string_view a : allowed) known = known || it.key() == a;
    if (!known) bad(field_path(path, it.key()), "unknown field");
  }
}

const json* find(const json& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

const json& require(const json& obj, std::string_view key, const std::string& path) {
  const json* v = find(obj, key);
  if (v == nullptr) bad(field_path(path, key), "missing required field");
  return *v;
}

namespace {
const char* type_name(const json& v) {
  if (v.is_number_integer()) return "integer";
  if (v.is_number_float()) return "number";
  return v.type_name();
}
[[noreturn]] void wrong_type(const json& v, const std::string& path, const char* want) {
  bad(path, std::string("expected ") + want + ", got " + type_name(v));
}
}  // namespace

std::string as_string(const json& v, const std::string& path) {
  if (!v.is_string()) wrong_type(v, path, "a string");
  return v.get<std::string>();
}

std::string as_nonempty_string(const json& v, const std::string& path) {
  std::string s = as_string(v, path);
  if (s.empty()) bad(path, "must not be empty");
  return s;
}

int64_t as_int(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
      bad(path, "integer out of range");
    return static_cast<int64_t>(v.get<uint64_t>());
  }
  if (!v.is_number_integer()) wrong_type(v, path, "an integer");
  return v.get<int64_t>();
}

uint64_t as_uint(const json& v, const std::string& path) {
  if (v.is_number_unsigned()) return v.get<uint64_t>();
  if (v.is_number_integer()) bad(path, "must be >= 0");
  wrong_type(v, path, "a non-negative integer");
}

double as_finite_number(const json& v, const std::string& path) {
  if (!v.is_number()) wrong_type(v, path, "a number");
  const double d = v.get<double>();
  // JSON has no NaN/Infinity literals, but 1e999 parses to inf.
  if (!std::isfinite(d)) bad(path, "must be a finite number");
  return d;
}

bool as_bool(const json& v, const std::string& path) {
  if (!v.is_boolean()) wrong_type(v, path, "a boolean");
  return v.get<bool>();
}

const json& as_object(const json& v, const std::string& path) {
  if (!v.is_object()) wrong_type(v, path, "an object");
  return v;
}

const json& as_array(const json& v, const std::string& path) {
  if (!v.is_array()) wrong_type(v, path, "an array");
  return v;
}

size_t json_nesting_depth(std::string_view text) {
  size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  return deepest;
}

std::string json_error_text(const std::exception& e) {
  std::string_view what = e.what();
  if (what.rfind("[json.exception.", 0) == 0) {
    const size_t close = what.find("] ");
    if (close != std::string_view::npos) what.remove_prefix(close + 2);
  }
  return std::string(what);
}

}  // namespace gossamer::protocol::detail
