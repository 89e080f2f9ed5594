#pragma once
// Server -> client messages (docs/PROTOCOL.md). Every submit gets exactly one terminal
// reply: a Done or an ErrorReply carrying its id. Accepted and Delta are never terminal.
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "protocol/error.h"

namespace gossamer::protocol {

// Harmony output channels: analysis = chain of thought, commentary = tool calls and
// preambles, final = the answer.
enum class Channel { kAnalysis, kCommentary, kFinal };
enum class FinishReason { kStop, kLength, kCancelled, kToolCall, kContext };

const char* channel_string(Channel c);
const char* finish_reason_string(FinishReason f);

struct Accepted {
  std::string id;
  std::optional<int64_t> queue_position;  // 0 = running now; absent when unknown
};

// A piece of a tool call being generated: `name` comes with the first piece of a call,
// `arguments_delta` pieces concatenate to the call's JSON arguments text.
struct ToolCallDelta {
  int64_t index = 0;  // which call of this request (0, 1, ...)
  std::optional<std::string> name;
  std::string arguments_delta;
};

struct Delta {
  std::string id;
  int64_t seq = 0;  // 0, 1, 2, ... per request: lets a client prove nothing was dropped
  Channel channel = Channel::kFinal;
  std::string text;
  std::vector<int32_t> token_ids;
  std::optional<ToolCallDelta> tool_call;
};

struct Usage {
  int64_t prompt_tokens = 0;
  int64_t completion_tokens = 0;
  std::optional<int64_t> cached_tokens;  // prompt tokens served from the prefix cache
};

struct Timings {
  double queue_ms = 0;  // submit received -> first scheduled
  double ttft_ms = 0;   // submit received -> first output token
  double total_ms = 0;  // submit received -> terminal reply
};

struct FinishedToolCall {
  std::string name;
  std::string arguments;
};

// Whole output per channel; sent in Done only for stream=false requests.
struct Output {
  std::string analysis;
  std::string commentary;
  std::string final;
  std::vector<FinishedToolCall> tool_calls;
};

struct Done {
  std::string id;
  FinishReason finish_reason = FinishReason::kStop;
  Usage usage;
  Timings timings;
  std::optional<Output> output;
};

// `id` is present only when this error is the terminal reply of that request. Errors
// about other messages (a cancel of an unknown id, a duplicate submit id, a frame whose
// id was unreadable) carry the offending id, if any, in `ref` so they can never be
// mistaken for a second terminal reply.
struct ErrorReply {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::optional<std::string> id;
  std::optional<std::string> ref;
};

struct HealthReply {
  std::optional<std::string> id;
  std::string status = "ok";  // "ok" | "degraded" | "shutting_down"
  int64_t world_size = 1;
  double uptime_s = 0;
  std::string model;
};

// Counters every server reports, plus free-form extras (per-rank, prefix cache, ...).
struct StatsReply {
  std::optional<std::string> id;
  int64_t queued = 0;
  int64_t running = 0;
  int64_t completed = 0;
  int64_t rejected = 0;
  int64_t kv_blocks_total = 0;
  int64_t kv_blocks_used = 0;
  nlohmann::json extra = nlohmann::json::object();
};

using ServerMessage = std::variant<Accepted, Delta, Done, ErrorReply, HealthReply, StatsReply>;

// True for Done and for ErrorReply with an id: the last message a request ever gets.
bool is_terminal(const ServerMessage& m);
// The request id a message belongs to (terminal error: id; others: id when present).
std::optional<std::string> request_id_of(const ServerMessage& m);

// Turns a parse/validation refusal into the reply to send. Only a refused submit whose id
// was readable (and is not a duplicate of a live request) terminates that id.
ErrorReply make_error_reply(const Error& e);

}  // namespace gossamer::protocol
