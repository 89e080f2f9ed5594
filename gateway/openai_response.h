#pragma once
// Front-door replies (docs/PROTOCOL.md) -> OpenAI response objects: chat.completion and
// its chunks, text_completion. Reasoning (the harmony analysis channel) goes out in both
// `reasoning_content` and `reasoning`, because clients read one or the other; tool calls
// become OpenAI tool_calls with ids and JSON-text arguments.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/server_messages.h"

namespace gossamer::gateway {

struct ResponseIdentity {
  bool chat = true;          // chat.completion(.chunk) or text_completion
  std::string id;            // "chatcmpl-..." / "cmpl-..."
  std::string upstream_id;   // the front door's request id (tool call ids derive from it)
  std::string model;
  int64_t created = 0;       // unix seconds
};

// "stop", "length", "tool_calls" (OpenAI has no "cancelled" or "context").
const char* openai_finish_reason(protocol::FinishReason f);
nlohmann::json openai_usage(const protocol::Usage& u);
// "call_<request>_<index>": stable for the request, unique across requests.
std::string tool_call_id(const std::string& upstream_id, int64_t index);

// The whole response of a stream=false request from its Done (which carries the output).
nlohmann::json whole_response(const ResponseIdentity& who, const protocol::Done& done);

// Chunks of a stream=true request, one JSON object per SSE event.
class ChunkMapper {
 public:
  explicit ChunkMapper(ResponseIdentity who, bool include_usage)
      : who_(std::move(who)), include_usage_(include_usage) {}
  // The chunks one delta becomes (the first also announces the assistant role).
  std::vector<nlohmann::json> on_delta(const protocol::Delta& d);
  // The finishing chunk, then the usage chunk when stream_options.include_usage.
  std::vector<nlohmann::json> on_done(const protocol::Done& d);

 private:
  nlohmann::json chunk(nlohmann::json choice_delta, const nlohmann::json& finish) const;

  ResponseIdentity who_;
  bool include_usage_ = false;
  bool announced_ = false;
  std::vector<int64_t> named_calls_;  // tool call indices whose id/name went out already
};

}  // namespace gossamer::gateway
