#include "harmony/conversation.h"

#include <ctime>

#include "core/error.h"

namespace gossamer::harmony {
namespace {

// Content as the template sees it. OpenAI's list-of-parts form is joined into one string
// (the template would concatenate the list's Python repr, which no client wants).
Json content_from_json(const Json& c, const std::string& where, bool any_json) {
  if (c.is_string() || c.is_null()) return c;
  if (c.is_array()) {
    std::string text;
    for (size_t i = 0; i < c.size(); ++i) {
      const Json& part = c[i];
      if (part.is_string()) {
        text += part.get<std::string>();
      } else if (part.is_object() && part.value("type", "") == "text" && part.contains("text") && part["text"].is_string()) {
        text += part["text"].get<std::string>();
      } else if (!any_json) {
        GOSSAMER_THROW(kInvalidArgument, "{}.content[{}]: only text parts are supported", where, i);
      } else {
        return c;
      }
    }
    return text;
  }
  if (any_json) return c;
  GOSSAMER_THROW(kInvalidArgument, "{}.content must be a string or a list of text parts", where);
}

ToolCall tool_call_from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) GOSSAMER_THROW(kInvalidArgument, "{} must be an object", where);
  const Json& f = j.contains("function") && j["function"].is_object() ? j["function"] : j;
  ToolCall tc;
  if (!f.contains("name") || !f["name"].is_string() || f["name"].get<std::string>().empty()) {
    GOSSAMER_THROW(kInvalidArgument, "{}.function.name must be a non-empty string", where);
  }
  tc.name = f["name"].get<std::string>();
  tc.arguments = f.contains("arguments") ? f["arguments"] : Json::object();
  if (f.contains("content_type") && f["content_type"].is_string()) tc.content_type = f["content_type"].get<std::string>();
  return tc;
}

}  // namespace

ReasoningEffort parse_reasoning_effort(const std::string& s) {
  if (auto e = chat::parse_reasoning_effort(s)) return *e;
  GOSSAMER_THROW(kInvalidArgument, "reasoning_effort must be low, medium or high, not \"{}\"", s);
}

ChatMessage chat_message_from_json(const Json& j, size_t index) {
  const std::string where = fmt::format("messages[{}]", index);
  if (!j.is_object()) GOSSAMER_THROW(kInvalidArgument, "{} must be an object", where);
  if (!j.contains("role") || !j["role"].is_string()) GOSSAMER_THROW(kInvalidArgument, "{}.role must be a string", where);
  ChatMessage m;
  const std::string role = j["role"].get<std::string>();
  const auto parsed_role = chat::parse_role(role);
  if (!parsed_role) {
    GOSSAMER_THROW(kInvalidArgument, "{}.role \"{}\" is not one of system, developer, user, assistant, tool", where, role);
  }
  m.role = *parsed_role;
  m.content = content_from_json(j.contains("content") ? j["content"] : Json(), where, m.role == chat::Role::kTool);
  if (j.contains("thinking") && !j["thinking"].is_null()) {
    if (!j["thinking"].is_string()) GOSSAMER_THROW(kInvalidArgument, "{}.thinking must be a string", where);
    m.thinking = j["thinking"].get<std::string>();
  }
  if (j.contains("tool_calls") && !j["tool_calls"].is_null()) {
    const Json& calls = j["tool_calls"];
    if (!calls.is_array()) GOSSAMER_THROW(kInvalidArgument, "{}.tool_calls must be a list", where);
    if (m.role != chat::Role::kAssistant && !calls.empty()) GOSSAMER_THROW(kInvalidArgument, "{}: only assistant messages carry tool_calls", where);
    for (size_t k = 0; k < calls.size(); ++k) m.tool_calls.push_back(tool_call_from_json(calls[k], fmt::format("{}.tool_calls[{}]", where, k)));
  }
  const bool needs_text = m.role != chat::Role::kTool && !(m.role == chat::Role::kAssistant && !m.tool_calls.empty());
  if (needs_text && !m.content.is_string()) {
    GOSSAMER_THROW(kInvalidArgument, "{}.content must be text for a {} message", where, role);
  }
  return m;
}

ChatRequest chat_request_from_json(const Json& j) {
  if (!j.is_object()) GOSSAMER_THROW(kInvalidArgument, "a chat request must be a JSON object");
  ChatRequest r;
  if (!j.contains("messages") || !j["messages"].is_array()) GOSSAMER_THROW(kInvalidArgument, "\"messages\" must be a list");
  const Json& msgs = j["messages"];
  if (msgs.empty()) GOSSAMER_THROW(kInvalidArgument, "\"messages\" is empty");
  for (size_t i = 0; i < msgs.size(); ++i) r.messages.push_back(chat_message_from_json(msgs[i], i));
  if (j.contains("tools") && !j["tools"].is_null()) {
    if (!j["tools"].is_array()) GOSSAMER_THROW(kInvalidArgument, "\"tools\" must be a list or null");
    r.tools = j["tools"];
  }
  if (j.contains("reasoning_effort") && !j["reasoning_effort"].is_null()) {
    if (!j["reasoning_effort"].is_string()) GOSSAMER_THROW(kInvalidArgument, "\"reasoning_effort\" must be a string");
    r.reasoning_effort = parse_reasoning_effort(j["reasoning_effort"].get<std::string>());
  }
  if (j.contains("current_date") && !j["current_date"].is_null()) {
    if (!j["current_date"].is_string()) GOSSAMER_THROW(kInvalidArgument, "\"current_date\" must be a string");
    r.current_date = j["current_date"].get<std::string>();
  }
  if (j.contains("add_generation_prompt")) {
    if (!j["add_generation_prompt"].is_boolean()) GOSSAMER_THROW(kInvalidArgument, "\"add_generation_prompt\" must be true or false");
    r.add_generation_prompt = j["add_generation_prompt"].get<bool>();
  }
  if (j.contains("model_identity") && j["model_identity"].is_string()) r.model_identity = j["model_identity"].get<std::string>();
  if (j.contains("builtin_tools") && !j["builtin_tools"].is_null() && !j["builtin_tools"].empty()) {
    GOSSAMER_THROW(kUnsupported, "\"builtin_tools\" (browser, python) are not supported yet");
  }
  return r;
}

std::string today_date() {
  const std::time_t now = std::time(nullptr);
  std::tm local{};
  localtime_r(&now, &local);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &local);
  return buf;
}

}  // namespace gossamer::harmony
