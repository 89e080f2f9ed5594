#pragma once
// Typed access to config.json values with errors that name the key and the file.
// Shared by the two config formats (config.cpp) and the generation config reader.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gossamer::model::cfgjson {

// `j` is the object holding `key`; `source` is the file (for messages).
bool has(const nlohmann::json& j, const char* key);  // present and not null
int64_t get_int(const nlohmann::json& j, const char* key, const std::string& source);
double get_double(const nlohmann::json& j, const char* key, const std::string& source);
bool get_bool(const nlohmann::json& j, const char* key, const std::string& source);
std::string get_string(const nlohmann::json& j, const char* key, const std::string& source);

// Optional variants: the default when the key is absent or null.
int64_t opt_int(const nlohmann::json& j, const char* key, int64_t def, const std::string& source);
double opt_double(const nlohmann::json& j, const char* key, double def, const std::string& source);
bool opt_bool(const nlohmann::json& j, const char* key, bool def, const std::string& source);

// A value that is an int or a list of ints (eos_token_id).
std::vector<int> int_or_list(const nlohmann::json& j, const char* key, const std::string& source);

}  // namespace gossamer::model::cfgjson
