// Wire strings of the small enums. They are part of the protocol: never rename.
#include "protocol/client_messages.h"
#include "protocol/server_messages.h"

namespace gossamer::protocol {

const char* role_string(Role r) { return chat::role_name(r); }

const char* reasoning_effort_string(ReasoningEffort e) { return chat::reasoning_effort_name(e); }

const char* channel_string(Channel c) {
  switch (c) {
    case Channel::kAnalysis: return "analysis";
    case Channel::kCommentary: return "commentary";
    case Channel::kFinal: return "final";
  }
  return "final";
}

const char* finish_reason_string(FinishReason f) {
  switch (f) {
    case FinishReason::kStop: return "stop";
    case FinishReason::kLength: return "length";
    case FinishReason::kCancelled: return "cancelled";
    case FinishReason::kToolCall: return "tool_call";
    case FinishReason::kContext: return "context";
  }
  return "stop";
}

}  // namespace gossamer::protocol
