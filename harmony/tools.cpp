#include "harmony/tools.h"

#include <algorithm>

#include "core/error.h"

namespace gossamer::harmony {
namespace {

// Jinja's `spec.key` on something that may not be a mapping: Undefined (here null).
const Json& field(const Json& obj, const char* key) {
  static const Json kUndefined;
  if (!obj.is_object()) return kUndefined;
  auto it = obj.find(key);
  return it == obj.end() ? kUndefined : *it;
}

bool has(const Json& obj, const char* key) { return obj.is_object() && obj.contains(key); }

bool is(const Json& v, const char* s) { return v.is_string() && v.get_ref<const std::string&>() == s; }

// `name in (list or [])`
bool listed(const Json& list, const std::string& name) {
  if (!python_truthy(list) || !list.is_array()) return false;
  return std::any_of(list.begin(), list.end(), [&](const Json& e) { return is(e, name.c_str()); });
}

std::string join(const Json& list, const std::string& sep) {
  std::string out;
  bool first = true;
  for (const auto& e : list) {
    if (!first) out += sep;
    first = false;
    out += python_str(e);
  }
  return out;
}

// Python len() of a str counts code points, not bytes.
size_t code_points(const std::string& s) {
  return static_cast<size_t>(std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; }));
}

// The text a field contributes when the template concatenates it with a string.
const std::string& text_field(const Json& v, const std::string& what) {
  if (!v.is_string()) GOSSAMER_THROW(kInvalidArgument, "{} must be a string", what);
  return v.get_ref<const std::string&>();
}

std::string nullable_suffix(const Json& spec) { return python_truthy(field(spec, "nullable")) ? " | null" : ""; }

std::string render_array(const Json& spec, const Json& required) {
  const Json& items = field(spec, "items");
  if (!python_truthy(items)) return "any[]" + nullable_suffix(spec);
  const Json& item_type = field(items, "type");
  std::string out;
  if (is(item_type, "string")) {
    out = "string[]";
  } else if (is(item_type, "number") || is(item_type, "integer")) {
    out = "number[]";
  } else if (is(item_type, "boolean")) {
    out = "boolean[]";
  } else {
    const std::string inner = render_typescript_type(items, required);
    out = (inner == "object | object" || code_points(inner) > 50) ? "any[]" : inner + "[]";
  }
  return out + nullable_suffix(spec);
}

std::string render_one_of(const Json& variants, const Json& required) {
  // The template's has_object_variants is set inside a for loop, which Jinja scopes to the
  // loop, so the "any" fallback never fires: every variant is rendered.
  std::string out;
  for (size_t i = 0; i < variants.size(); ++i) {
    const Json& v = variants[i];
    out += render_typescript_type(v, required);
    if (python_truthy(field(v, "description"))) out += "// " + python_str(field(v, "description"));
    if (has(v, "default")) out += std::string(20, ' ') + "// default: " + python_json_dumps(field(v, "default"));
    if (i + 1 < variants.size()) out += " | \n";
  }
  return out;
}

std::string render_object(const Json& spec) {
  const Json& props = field(spec, "properties");
  if (!python_truthy(props) || !props.is_object()) return "object";
  const Json& req = field(spec, "required");
  std::string out = "{\n";
  size_t i = 0;
  for (const auto& [name, prop] : props.items()) {
    out += name;
    if (!listed(req, name)) out += '?';
    // The template writes this call with `{{` rather than `{{-`, so the line break and
    // indentation before it reach the output.
    out += ": \n" + std::string(16, ' ') + render_typescript_type(prop, req);
    if (++i < props.size()) out += ", ";
  }
  return out + "}";
}

}  // namespace

std::string render_typescript_type(const Json& spec, const Json& required) {
  const Json& type = field(spec, "type");
  if (is(type, "array")) return render_array(spec, required);
  if (type.is_array() && !type.empty()) return type.size() > 1 ? join(type, " | ") : python_str(type[0]);
  if (python_truthy(field(spec, "oneOf")) && field(spec, "oneOf").is_array()) return render_one_of(field(spec, "oneOf"), required);
  if (is(type, "string")) {
    const Json& values = field(spec, "enum");
    if (python_truthy(values) && values.is_array()) return "\"" + join(values, "\" | \"") + "\"";
    return "string" + nullable_suffix(spec);
  }
  if (is(type, "number") || is(type, "integer")) return "number";
  if (is(type, "boolean")) return "boolean";
  if (is(type, "object")) return render_object(spec);
  return "any";
}

std::string render_tool_namespace(const std::string& namespace_name, const Json& tools) {
  if (!tools.is_array()) GOSSAMER_THROW(kInvalidArgument, "\"tools\" must be a list");
  std::string out = "## " + namespace_name + "\n\n" + "namespace " + namespace_name + " {\n\n";
  for (size_t t = 0; t < tools.size(); ++t) {
    const Json& tool = has(tools[t], "function") ? tools[t]["function"] : tools[t];
    const std::string where = fmt::format("tools[{}]", t);
    if (!tool.is_object()) GOSSAMER_THROW(kInvalidArgument, "{} must be an object", where);
    const std::string& name = text_field(field(tool, "name"), where + ".function.name");
    if (name.empty()) GOSSAMER_THROW(kInvalidArgument, "{}.function.name is empty", where);
    // The template fails on a tool without a description; harmony's own renderer just
    // leaves the comment out, which is what we do.
    if (has(tool, "description") && !field(tool, "description").is_null()) {
      out += "// " + text_field(field(tool, "description"), where + ".function.description") + "\n";
    }
    out += "type " + name + " = ";
    const Json& params = field(tool, "parameters");
    const Json& props = field(params, "properties");
    if (!python_truthy(params) || !python_truthy(props) || !props.is_object()) {
      out += "() => any;\n\n";
      continue;
    }
    const Json& req = field(params, "required");
    out += "(_: {\n";
    for (const auto& [pname, pspec] : props.items()) {
      if (python_truthy(field(pspec, "description"))) out += "// " + python_str(field(pspec, "description")) + "\n";
      out += pname;
      if (!listed(req, pname)) out += '?';
      out += ": " + render_typescript_type(pspec, req);
      if (has(pspec, "default")) {
        const Json& def = field(pspec, "default");
        // Enum and oneOf defaults are concatenated as text by the template, others JSON-encoded.
        if (python_truthy(field(pspec, "enum"))) {
          out += ", // default: " + python_str(def);
        } else if (python_truthy(field(pspec, "oneOf"))) {
          out += "// default: " + python_str(def);
        } else {
          out += ", // default: " + python_json_dumps(def);
        }
      }
      out += ",\n";
    }
    out += "}) => any;\n\n";
  }
  return out + "} // namespace " + namespace_name;
}

}  // namespace gossamer::harmony
