#include "harmony/json.h"

#include <cmath>

#include <fmt/format.h>

namespace gossamer::harmony {
namespace {

void dump_string(const std::string& s, std::string& out) {
  out += '"';
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      default:
        if (c < 0x20) {
          out += fmt::format("\\u{:04x}", c);
        } else {
          out += ch;  // ensure_ascii=False: everything else, non-ASCII included, as is
        }
    }
  }
  out += '"';
}

// Python's float repr: shortest round-trip digits, exponent form below 1e-4 and from 1e16.
std::string float_repr(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  // nlohmann prints the shortest round-trip form with the same exponent thresholds and
  // the same "1e-05" / "1e+16" spelling that Python's repr uses.
  return Json(d).dump();
}

// Arrays and objects Python-style ("[a, b]", "{k: v}"); elements and keys are written by
// the caller's functions, so json.dumps and repr() share the walk.
void write_container(const Json& v, std::string& out, void (*element)(const Json&, std::string&),
                     void (*key)(const std::string&, std::string&)) {
  const bool object = v.is_object();
  out += object ? '{' : '[';
  bool first = true;
  for (const auto& [k, e] : v.items()) {
    if (!first) out += ", ";
    first = false;
    if (object) {
      key(k, out);
      out += ": ";
    }
    element(e, out);
  }
  out += object ? '}' : ']';
}

void dump(const Json& v, std::string& out) {
  switch (v.type()) {
    case Json::value_t::null: out += "null"; break;
    case Json::value_t::boolean: out += v.get<bool>() ? "true" : "false"; break;
    case Json::value_t::number_integer: out += std::to_string(v.get<int64_t>()); break;
    case Json::value_t::number_unsigned: out += std::to_string(v.get<uint64_t>()); break;
    case Json::value_t::number_float: out += float_repr(v.get<double>()); break;
    case Json::value_t::string: dump_string(v.get_ref<const std::string&>(), out); break;
    case Json::value_t::array:
    case Json::value_t::object: write_container(v, out, dump, dump_string); break;
    default: out += "null"; break;  // binary / discarded: never produced by parsing JSON
  }
}

// repr() of a str: single quotes unless the text holds ' and no ".
void repr_string(const std::string& s, std::string& out) {
  const bool dq = s.find('\'') != std::string::npos && s.find('"') == std::string::npos;
  const char q = dq ? '"' : '\'';
  out += q;
  for (char ch : s) {
    const auto c = static_cast<unsigned char>(ch);
    if (ch == q || ch == '\\') {
      out += '\\';
      out += ch;
    } else if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (c < 0x20 || c == 0x7F) {
      out += fmt::format("\\x{:02x}", c);
    } else {
      out += ch;
    }
  }
  out += q;
}

void repr(const Json& v, std::string& out) {
  switch (v.type()) {
    case Json::value_t::string: repr_string(v.get_ref<const std::string&>(), out); break;
    case Json::value_t::array:
    case Json::value_t::object: write_container(v, out, repr, repr_string); break;
    default: out += python_str(v); break;
  }
}

}  // namespace

std::string python_json_dumps(const Json& v) {
  std::string out;
  dump(v, out);
  return out;
}

std::string python_str(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return "None";
    case Json::value_t::boolean: return v.get<bool>() ? "True" : "False";
    case Json::value_t::number_integer: return std::to_string(v.get<int64_t>());
    case Json::value_t::number_unsigned: return std::to_string(v.get<uint64_t>());
    case Json::value_t::number_float: {
      const double d = v.get<double>();
      if (std::isnan(d)) return "nan";
      if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
      return float_repr(d);
    }
    case Json::value_t::string: return v.get<std::string>();
    default: {
      std::string out;
      repr(v, out);
      return out;
    }
  }
}

bool python_truthy(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null: return false;
    case Json::value_t::boolean: return v.get<bool>();
    case Json::value_t::number_integer: return v.get<int64_t>() != 0;
    case Json::value_t::number_unsigned: return v.get<uint64_t>() != 0;
    case Json::value_t::number_float: return v.get<double>() != 0.0;
    case Json::value_t::string: return !v.get_ref<const std::string&>().empty();
    case Json::value_t::array:
    case Json::value_t::object: return !v.empty();
    default: return false;
  }
}

}  // namespace gossamer::harmony
