#pragma once
// Frame -> typed message. These never throw: every refusal comes back as an Error with a
// stable code and, when readable, the request id and message type (see error.h).
#include <cstdint>
#include <optional>
#include <string_view>

#include "protocol/client_messages.h"
#include "protocol/error.h"
#include "protocol/limits.h"
#include "protocol/server_messages.h"

namespace gossamer::protocol {

// Server side. Checks, in this order: frame size (too_large), UTF-8 (invalid_utf8), JSON
// (bad_json), envelope (`v`: unsupported_version; `type`: unknown_type), then every field
// (bad_request naming the field path; context_length for a token prompt that cannot fit).
Result<ClientMessage> parse_client_message(std::string_view frame, const Limits& limits = {});

// Client side. Lenient about fields it does not know (servers may add fields within a
// version) but strict about the types of the fields it reads.
Result<ServerMessage> parse_server_message(std::string_view frame,
                                           size_t max_frame_bytes = kDefaultMaxFrameBytes);

// For the coordinator after tokenizing messages/prompt: context_length when the prompt
// leaves no room for a single output token.
std::optional<Error> check_prompt_length(const Submit& s, int64_t prompt_tokens,
                                         const Limits& limits);

}  // namespace gossamer::protocol
