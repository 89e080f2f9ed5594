// Wire strings of the small enums. They are part of the protocol: never rename.
#include "protocol/client_messages.h"
#include "protocol/server_messages.h"

namespace gossamer::protocol {

const char* role_string(Role r) {
  switch (r) {
    case Role::kSystem: return "system";
    case Role::kDeveloper: return "developer";
    case Role::kUser: return "user";
    case Role::kAssistant: return "assistant";
    case Role::kTool: return "tool";
  }
  return "user";
}

const char* reasoning_effort_string(ReasoningEffort e) {
  switch (e) {
    case ReasoningEffort::kLow: return "low";
    case ReasoningEffort::kMedium: return "medium";
    case ReasoningEffort::kHigh: return "high";
  }
  return "medium";
}

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
