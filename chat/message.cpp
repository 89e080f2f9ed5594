#include "chat/message.h"

#include <array>

namespace gossamer::chat {
namespace {

constexpr std::array<const char*, 5> kRoleNames = {"system", "developer", "user", "assistant", "tool"};

}  // namespace

const char* role_name(Role r) { return kRoleNames[static_cast<size_t>(r)]; }

std::optional<Role> parse_role(std::string_view name) {
  for (size_t i = 0; i < kRoleNames.size(); ++i)
    if (name == kRoleNames[i]) return static_cast<Role>(i);
  return std::nullopt;
}

const char* reasoning_effort_name(ReasoningEffort e) {
  switch (e) {
    case ReasoningEffort::kLow: return "low";
    case ReasoningEffort::kMedium: return "medium";
    case ReasoningEffort::kHigh: return "high";
  }
  return "medium";
}

std::optional<ReasoningEffort> parse_reasoning_effort(std::string_view name) {
  if (name == "low") return ReasoningEffort::kLow;
  if (name == "medium") return ReasoningEffort::kMedium;
  if (name == "high") return ReasoningEffort::kHigh;
  return std::nullopt;
}

const std::string& Message::text() const {
  static const std::string kEmpty;
  return content.is_string() ? content.get_ref<const std::string&>() : kEmpty;
}

}  // namespace gossamer::chat
