#pragma once
// One chat turn in the OpenAI shape: the single type the wire protocol parses into
// (protocol/), the harmony chat template renders from (harmony/render.h) and the
// HTTP gateway maps to, so a request's messages are never re-serialised between layers.
//
// `content` is a JSON value: text for every role, and for a tool result whatever JSON the
// caller gave (the template renders it with json.dumps). A tool call's `arguments` is a JSON
// value too: the JSON text OpenAI clients send (a string), or an object.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace gossamer::chat {

// Key order is kept (tool schemas and arguments render in the order they were given).
using Json = nlohmann::ordered_json;

enum class Role : uint8_t { kSystem, kDeveloper, kUser, kAssistant, kTool };

// "system", "developer", "user", "assistant", "tool".
const char* role_name(Role r);
std::optional<Role> parse_role(std::string_view name);

// How much the model should think (the harmony system message's "Reasoning:" line).
enum class ReasoningEffort : uint8_t { kLow, kMedium, kHigh };
const char* reasoning_effort_name(ReasoningEffort e);  // "low", "medium", "high"
std::optional<ReasoningEffort> parse_reasoning_effort(std::string_view name);

// An assistant's call of a function tool.
struct ToolCall {
  std::string id;                           // "" when the client gave none
  std::string name;
  Json arguments = Json::object();          // JSON text (a string) or an object
  std::optional<std::string> content_type;  // harmony's "<|constrain|>" type; default json
  friend bool operator==(const ToolCall&, const ToolCall&) = default;
};

struct Message {
  Role role = Role::kUser;
  Json content;                            // text; any JSON for a tool result; null = none
  std::optional<std::string> thinking;     // assistant: the analysis channel of an earlier turn
  std::vector<ToolCall> tool_calls;        // assistant
  std::optional<std::string> tool_call_id; // tool: which call this answers
  std::optional<std::string> name;         // tool: the function's name
  friend bool operator==(const Message&, const Message&) = default;

  bool has_text() const { return content.is_string(); }
  // The text content; "" when content is not a string.
  const std::string& text() const;
};

}  // namespace gossamer::chat
