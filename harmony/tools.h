#pragma once
// Function tools as gpt-oss was trained to read them: a TypeScript-like namespace in the
// developer message, e.g.
//
//   ## functions
//
//   namespace functions {
//
//   // Get the current weather for a city.
//   type get_weather = (_: {
//   // City name
//   city: string,
//   unit?: "celsius" | "fahrenheit",
//   }) => any;
//
//   } // namespace functions
//
// This is the chat template's render_tool_namespace / render_typescript_type macros
// transcribed, quirks included (the template's stray whitespace in nested objects and
// oneOf unions, and its `has_object_variants` flag that Jinja scoping never sets), so the
// text is the one the model saw in training.
#include <string>

#include "harmony/json.h"

namespace gossamer::harmony {

// `tools` is the OpenAI-shape list: [{"type": "function", "function": {"name", "description",
// "parameters"}}] (a bare {"name", ...} is accepted too). Throws kInvalidArgument when a
// tool has no name or a field has a type the template cannot concatenate.
std::string render_tool_namespace(const std::string& namespace_name, const Json& tools);

// One JSON-schema node as a TypeScript type ("string", "number[]", "\"a\" | \"b\"", ...).
std::string render_typescript_type(const Json& spec, const Json& required);

}  // namespace gossamer::harmony
