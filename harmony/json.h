#pragma once
// The two ways gpt-oss's Jinja chat template turns values into text, reproduced byte for
// byte: `|tojson` (transformers' filter: Python json.dumps with ensure_ascii=False, ", " and
// ": " separators, keys in insertion order) and string concatenation / `|join`, which
// applies Python's str() (True, None, 1.5, ['a', 1]). Values are ordered_json so object
// keys keep the order the client sent them in, as Python dicts do.
#include <string>

#include <nlohmann/json.hpp>

namespace gossamer::harmony {

using Json = nlohmann::ordered_json;

// json.dumps(v, ensure_ascii=False)
std::string python_json_dumps(const Json& v);
// str(v)
std::string python_str(const Json& v);
// Python truthiness (empty string/list/dict, 0, false and null are false).
bool python_truthy(const Json& v);

}  // namespace gossamer::harmony
