#include "model/config_json.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace gossamer::model::cfgjson {
namespace {

const nlohmann::json& need(const nlohmann::json& j, const char* key, const std::string& source) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null())
    GOSSAMER_THROW(kInvalidArgument, "{}: missing key '{}'", source, key);
  return *it;
}

// Integers may be written as 256 or 256.0 (some exporters do); 256.5 or "256" is an error.
int64_t as_int(const nlohmann::json& v, const char* key, const std::string& source) {
  if (v.is_number_integer()) return v.get<int64_t>();
  if (v.is_number_float()) {
    double d = v.get<double>();
    if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 9.0e15)
      return static_cast<int64_t>(d);
  }
  GOSSAMER_THROW(kInvalidArgument, "{}: key '{}' must be an integer, got {}", source, key, v.dump());
}

}  // namespace

bool has(const nlohmann::json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && !it->is_null();
}

int64_t get_int(const nlohmann::json& j, const char* key, const std::string& source) {
  return as_int(need(j, key, source), key, source);
}

double get_double(const nlohmann::json& j, const char* key, const std::string& source) {
  const auto& v = need(j, key, source);
  if (!v.is_number())
    GOSSAMER_THROW(kInvalidArgument, "{}: key '{}' must be a number, got {}", source, key, v.dump());
  return v.get<double>();
}

bool get_bool(const nlohmann::json& j, const char* key, const std::string& source) {
  const auto& v = need(j, key, source);
  if (!v.is_boolean())
    GOSSAMER_THROW(kInvalidArgument, "{}: key '{}' must be true or false, got {}", source, key, v.dump());
  return v.get<bool>();
}

std::string get_string(const nlohmann::json& j, const char* key, const std::string& source) {
  const auto& v = need(j, key, source);
  if (!v.is_string())
    GOSSAMER_THROW(kInvalidArgument, "{}: key '{}' must be a string, got {}", source, key, v.dump());
  return v.get<std::string>();
}

int64_t opt_int(const nlohmann::json& j, const char* key, int64_t def, const std::string& source) {
  return has(j, key) ? get_int(j, key, source) : def;
}
double opt_double(const nlohmann::json& j, const char* key, double def, const std::string& source) {
  return has(j, key) ? get_double(j, key, source) : def;
}
bool opt_bool(const nlohmann::json& j, const char* key, bool def, const std::string& source) {
  return has(j, key) ? get_bool(j, key, source) : def;
}

std::vector<int> int_or_list(const nlohmann::json& j, const char* key, const std::string& source) {
  std::vector<int> out;
  if (!has(j, key)) return out;
  const auto& v = j.at(key);
  auto one = [&](const nlohmann::json& x) {
    int64_t id = as_int(x, key, source);
    if (id < 0 || id > std::numeric_limits<int>::max())
      GOSSAMER_THROW(kInvalidArgument, "{}: key '{}' holds token id {}, out of range", source, key, id);
    out.push_back(static_cast<int>(id));
  };
  if (v.is_array()) {
    for (const auto& x : v) one(x);
  } else {
    one(v);
  }
  return out;
}

}  // namespace gossamer::model::cfgjson
