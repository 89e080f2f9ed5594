#pragma once
// Client -> server messages (docs/PROTOCOL.md). Plain values: the parser fills them only
// after every field has been validated, so the coordinator can trust them.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "chat/message.h"

namespace gossamer::protocol {

// Chat turns are the one shared type of chat/message.h (the chat template renders the
// same objects the parser fills). On the wire a message's content is always text.
using Role = chat::Role;
using ReasoningEffort = chat::ReasoningEffort;
using ToolCall = chat::ToolCall;
using ChatMessage = chat::Message;

const char* role_string(Role r);
const char* reasoning_effort_string(ReasoningEffort e);

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
