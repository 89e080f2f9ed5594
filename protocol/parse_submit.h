#pragma once
// Internal to the protocol library: the body of a `submit` (parse_client.cpp does the
// envelope). Throws detail::FieldError.
#include <nlohmann/json.hpp>

#include "protocol/client_messages.h"
#include "protocol/limits.h"

namespace gossamer::protocol::detail {

Submit parse_submit_body(const nlohmann::json& msg, const Limits& limits);
std::vector<ChatMessage> parse_chat_messages(const nlohmann::json& v, const Limits& limits);
Params parse_params(const nlohmann::json& v, const Limits& limits);

}  // namespace gossamer::protocol::detail
