// Validation of a `submit` body: input (messages | prompt | tokens) and params.
#include <cctype>
#include <cmath>
#include <set>

#include "protocol/json_fields.h"
#include "protocol/parse_submit.h"

namespace gossamer::protocol::detail {
namespace {

std::string limit_text(size_t n) { return std::to_string(n); }

Role parse_role(const json& v, const std::string& path) {
  const std::string s = as_string(v, path);
  if (auto r = chat::parse_role(s)) return *r;
  bad(path, "unknown role '" + s + "' (expected system, developer, user, assistant or tool)");
}

// OpenAI sends arguments as JSON text (kept as that string); an object is accepted too.
chat::Json parse_arguments(const json& v, const std::string& path) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_object()) return chat::Json(v);
  bad(path, "expected a JSON string or object");
}

ToolCall parse_tool_call(const json& v, const std::string& path) {
  as_object(v, path);
  reject_unknown_fields(v, path, {"id", "type", "function"});
  ToolCall call;
  if (const json* id = find(v, "id")) call.id = as_string(*id, field_path(path, "id"));
  if (const json* t = find(v, "type"); t && as_string(*t, field_path(path, "type")) != "function")
    bad(field_path(path, "type"), "only \"function\" tool calls exist");
  const std::string fpath = field_path(path, "function");
  const json& fn = as_object(require(v, "function", path), fpath);
  reject_unknown_fields(fn, fpath, {"name", "arguments"});
  call.name = as_nonempty_string(require(fn, "name", fpath), field_path(fpath, "name"));
  if (const json* a = find(fn, "arguments"))
    call.arguments = parse_arguments(*a, field_path(fpath, "arguments"));
  return call;
}

ChatMessage parse_chat_message(const json& v, const std::string& path) {
  as_object(v, path);
  reject_unknown_fields(v, path, {"role", "content", "thinking", "tool_calls", "tool_call_id", "name"});
  ChatMessage m;
  m.role = parse_role(require(v, "role", path), field_path(path, "role"));
  const bool assistant = m.role == Role::kAssistant;
  if (const json* calls = find(v, "tool_calls")) {
    const std::string cpath = field_path(path, "tool_calls");
    if (!assistant) bad(cpath, "only assistant messages carry tool_calls");
    as_array(*calls, cpath);
    for (size_t i = 0; i < calls->size(); ++i)
      m.tool_calls.push_back(parse_tool_call((*calls)[i], index_path(cpath, i)));
  }
  // An assistant turn that only calls tools may have null/absent content (OpenAI shape).
  const json* c = find(v, "content");
  if (c && !(c->is_null() && assistant)) m.content = as_string(*c, field_path(path, "content"));
  else if (!(assistant && !m.tool_calls.empty())) bad(field_path(path, "content"), "missing required field");
  else m.content = nullptr;
  if (const json* t = find(v, "thinking")) {
    if (!assistant) bad(field_path(path, "thinking"), "only assistant messages carry thinking");
    m.thinking = as_string(*t, field_path(path, "thinking"));
  }
  if (const json* t = find(v, "tool_call_id")) {
    if (m.role != Role::kTool) bad(field_path(path, "tool_call_id"), "only tool messages carry tool_call_id");
    m.tool_call_id = as_string(*t, field_path(path, "tool_call_id"));
  }
  if (const json* n = find(v, "name")) m.name = as_nonempty_string(*n, field_path(path, "name"));
  return m;
}

bool valid_tool_name(const std::string& s) {
  if (s.empty() || s.size() > 64) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

Tool parse_tool(const json& v, const std::string& path) {
  as_object(v, path);
  reject_unknown_fields(v, path, {"type", "function"});
  if (as_string(require(v, "type", path), field_path(path, "type")) != "function")
    bad(field_path(path, "type"), "only \"function\" tools exist");
  const std::string fpath = field_path(path, "function");
  const json& fn = as_object(require(v, "function", path), fpath);
  reject_unknown_fields(fn, fpath, {"name", "description", "parameters", "strict"});
  Tool tool;
  tool.name = as_string(require(fn, "name", fpath), field_path(fpath, "name"));
  if (!valid_tool_name(tool.name))
    bad(field_path(fpath, "name"), "must be 1-64 characters of [A-Za-z0-9_.-]");
  if (const json* d = find(fn, "description"))
    tool.description = as_string(*d, field_path(fpath, "description"));
  if (const json* p = find(fn, "parameters")) {
    if (!p->is_object())
      bad(field_path(fpath, "parameters"), "must be a JSON object (a JSON schema)");
    tool.parameters = *p;
  }
  if (const json* s = find(fn, "strict")) as_bool(*s, field_path(fpath, "strict"));
  return tool;
}

ReasoningEffort parse_effort(const json& v, const std::string& path) {
  const std::string s = as_string(v, path);
  if (auto e = chat::parse_reasoning_effort(s)) return *e;
  bad(path, "unknown reasoning_effort '" + s + "' (expected low, medium or high)");
}

std::vector<int32_t> parse_tokens(const json& v, const Limits& limits) {
  as_array(v, "tokens");
  if (v.empty()) bad("tokens", "must not be empty");
  std::vector<int32_t> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const int64_t t = as_int(v[i], index_path("tokens", i));
    const int64_t upper = limits.vocab_size > 0 ? limits.vocab_size : int64_t{INT32_MAX} + 1;
    if (t < 0 || t >= upper)
      bad(index_path("tokens", i), "token id " + std::to_string(t) + " out of range [0, " +
                                      std::to_string(upper) + ")");
    out.push_back(static_cast<int32_t>(t));
  }
  if (limits.context_length > 0 && static_cast<int64_t>(out.size()) >= limits.context_length)
    fail(ErrorCode::kContextLength,
         "tokens: prompt of " + std::to_string(out.size()) +
             " tokens leaves no room to generate within the context of " +
             std::to_string(limits.context_length) + " tokens");
  return out;
}

}  // namespace

std::vector<ChatMessage> parse_chat_messages(const json& v, const Limits& limits) {
  as_array(v, "messages");
  if (v.empty()) bad("messages", "must not be empty");
  if (v.size() > limits.max_messages)
    bad("messages", "more than " + limit_text(limits.max_messages) + " messages");
  std::vector<ChatMessage> out;
  out.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) out.push_back(parse_chat_message(v[i], index_path("messages", i)));
  return out;
}

Params parse_params(const json& v, const Limits& limits) {
  as_object(v, "params");
  reject_unknown_fields(v, "params", {"max_tokens", "temperature", "top_p", "top_k", "seed", "stop",
                                      "reasoning_effort", "tools", "stream"});
  Params p;
  if (const json* x = find(v, "max_tokens")) {
    const int64_t n = as_int(*x, "params.max_tokens");
    if (n < 1) bad("params.max_tokens", "must be >= 1");
    if (n > limits.max_tokens)
      bad("params.max_tokens", std::to_string(n) + " exceeds the server limit of " +
                                   std::to_string(limits.max_tokens));
    p.max_tokens = n;
  }
  if (const json* x = find(v, "temperature")) {
    const double t = as_finite_number(*x, "params.temperature");
    if (t < 0) bad("params.temperature", "must be >= 0");
    p.temperature = t;
  }
  if (const json* x = find(v, "top_p")) {
    const double t = as_finite_number(*x, "params.top_p");
    if (!(t > 0 && t <= 1)) bad("params.top_p", "must be in (0, 1]");
    p.top_p = t;
  }
  if (const json* x = find(v, "top_k")) {
    const int64_t k = as_int(*x, "params.top_k");
    if (k < 0) bad("params.top_k", "must be >= 0");
    p.top_k = k;
  }
  if (const json* x = find(v, "seed")) p.seed = as_uint(*x, "params.seed");
  if (const json* x = find(v, "stop")) {
    as_array(*x, "params.stop");
    if (x->size() > limits.max_stop) bad("params.stop", "more than " + limit_text(limits.max_stop) + " stop strings");
    for (size_t i = 0; i < x->size(); ++i) {
      const std::string path = index_path("params.stop", i);
      std::string s = as_nonempty_string((*x)[i], path);
      if (s.size() > limits.max_stop_bytes) bad(path, "longer than " + limit_text(limits.max_stop_bytes) + " bytes");
      p.stop.push_back(std::move(s));
    }
  }
  if (const json* x = find(v, "reasoning_effort")) p.reasoning_effort = parse_effort(*x, "params.reasoning_effort");
  if (const json* x = find(v, "tools")) {
    as_array(*x, "params.tools");
    if (x->size() > limits.max_tools) bad("params.tools", "more than " + limit_text(limits.max_tools) + " tools");
    std::set<std::string> names;
    for (size_t i = 0; i < x->size(); ++i) {
      Tool t = parse_tool((*x)[i], index_path("params.tools", i));
      if (!names.insert(t.name).second)
        bad(index_path("params.tools", i) + ".function.name", "duplicate tool name '" + t.name + "'");
      p.tools.push_back(std::move(t));
    }
  }
  if (const json* x = find(v, "stream")) p.stream = as_bool(*x, "params.stream");
  return p;
}

Submit parse_submit_body(const json& msg, const Limits& limits) {
  reject_unknown_fields(msg, "", {"v", "type", "id", "messages", "prompt", "tokens", "params"});
  Submit s;
  s.id = as_nonempty_string(require(msg, "id", ""), "id");
  if (s.id.size() > limits.max_id_bytes) bad("id", "longer than " + limit_text(limits.max_id_bytes) + " bytes");
  const json* messages = find(msg, "messages");
  const json* prompt = find(msg, "prompt");
  const json* tokens = find(msg, "tokens");
  const int given = (messages != nullptr) + (prompt != nullptr) + (tokens != nullptr);
  if (given == 0) bad("messages", "missing: exactly one of messages, prompt or tokens is required");
  if (given > 1) bad(messages ? "messages" : "prompt", "exactly one of messages, prompt or tokens may be given");
  // Params first: the tokens context check below uses nothing from them, but a bad param
  // is the more specific error when both are wrong.
  if (const json* p = find(msg, "params")) s.params = parse_params(*p, limits);
  if (messages) s.messages = parse_chat_messages(*messages, limits);
  if (prompt) s.prompt = as_nonempty_string(*prompt, "prompt");
  if (tokens) s.tokens = parse_tokens(*tokens, limits);
  return s;
}

}  // namespace gossamer::protocol::detail
