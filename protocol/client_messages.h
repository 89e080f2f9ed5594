#pragma once
// Client -> server messages (docs/PROTOCOL.md). Plain values: the parser fills them only
// after every field has been validated, so the coordinator can trust them.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

namespace gossamer::protocol {

enum class Role { kSystem, kDeveloper, kUser, kAssistant, kTool };
enum class ReasoningEffort { kLow, kMedium, kHigh };

const char* role_string(Role r);
const char* reasoning_effort_string(ReasoningEffort e);

// An assistant's earlier call of a tool (OpenAI chat shape, function calls only).
struct ToolCall {
  std::string id;         // optional on the wire; "" when absent
  std::string name;
  std::string arguments;  // JSON text, as OpenAI sends it
};

// One chat turn. `thinking` (assistant only) is the analysis channel of an earlier turn;
// `tool_call_id`/`name` identify which call a role=tool message answers.
struct ChatMessage {
  Role role = Role::kUser;
  std::string content;
  std::optional<std::string> thinking;
  std::vector<ToolCall> tool_calls;
  std::optional<std::string> tool_call_id;
  std::optional<std::string> name;
};

// An OpenAI function tool: {"type":"function","function":{name, description, parameters}}.
struct Tool {
  std::string name;
  std::string description;
  nlohmann::json parameters = nlohmann::json::object();  // JSON schema, always an object
};

// Sampling and output controls. Absent optional fields mean "server default".
struct Params {
  std::optional<int64_t> max_tokens;  // 1..Limits::max_tokens
  std::optional<double> temperature;  // finite, >= 0 (0 = greedy)
  std::optional<double> top_p;        // (0, 1]
  std::optional<int64_t> top_k;       // >= 0 (0 = off)
  std::optional<uint64_t> seed;
  std::vector<std::string> stop;
  std::optional<ReasoningEffort> reasoning_effort;
  std::vector<Tool> tools;
  bool stream = true;
};

// Exactly one of messages / prompt / tokens is set.
struct Submit {
  std::string id;  // client-chosen, unique among the connection's in-flight requests
  std::optional<std::vector<ChatMessage>> messages;
  std::optional<std::string> prompt;
  std::optional<std::vector<int32_t>> tokens;
  Params params;
};

struct Cancel {
  std::string id;
};

// health and stats carry an optional correlation id that the reply echoes; it is not a
// request id and never enters the request table.
struct HealthRequest {
  std::optional<std::string> id;
};
struct StatsRequest {
  std::optional<std::string> id;
};

using ClientMessage = std::variant<Submit, Cancel, HealthRequest, StatsRequest>;

}  // namespace gossamer::protocol
