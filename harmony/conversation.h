#pragma once
// A chat request in the OpenAI shape, as the chat template consumes it:
//   {"messages": [{"role": "system"|"developer"|"user"|"assistant"|"tool", "content": ...,
//                  "thinking": ..., "tool_calls": [...]}, ...],
//    "tools": [...] | null, "reasoning_effort": "low"|"medium"|"high",
//    "current_date": "YYYY-MM-DD", "add_generation_prompt": true, "model_identity": "..."}
// Parsing validates what the template would trip over later (unknown roles, non-text
// content, a tool result with no call before it) and reports it with the message index.
#include <optional>
#include <string>
#include <vector>

#include "chat/message.h"
#include "harmony/json.h"

namespace gossamer::harmony {

// The shared chat types (chat/message.h). Only an assistant message's first tool call is
// rendered, as the template does; a tool call's arguments render with tojson.
using chat::ReasoningEffort;
using chat::reasoning_effort_name;
using ToolCall = chat::ToolCall;
using ChatMessage = chat::Message;
ReasoningEffort parse_reasoning_effort(const std::string& s);  // throws kInvalidArgument

struct ChatRequest {
  std::vector<ChatMessage> messages;
  Json tools;                                   // array or null
  ReasoningEffort reasoning_effort = ReasoningEffort::kMedium;
  std::string current_date;                     // YYYY-MM-DD; empty = today (local time)
  bool add_generation_prompt = true;
  std::string model_identity = "You are ChatGPT, a large language model trained by OpenAI.";
  // The template passes a string tool-call "arguments" through tojson, quoting it a second
  // time; OpenAI clients send arguments as a JSON string, so by default a string that parses
  // as JSON is rendered as that JSON (what openai-harmony renders). Set true for the
  // template's literal behaviour.
  bool literal_string_arguments = false;
};

// Throws kInvalidArgument with the path of the offending field.
ChatRequest chat_request_from_json(const Json& j);
ChatMessage chat_message_from_json(const Json& j, size_t index);

// Today's date as YYYY-MM-DD in local time (the template's strftime_now("%Y-%m-%d")).
std::string today_date();

}  // namespace gossamer::harmony
