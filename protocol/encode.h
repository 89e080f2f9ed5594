#pragma once
// Typed message -> JSON frame. Every frame carries "v" and "type". Optional fields that
// are unset are left out, never sent as null.
#include <string>

#include <nlohmann/json.hpp>

#include "protocol/client_messages.h"
#include "protocol/server_messages.h"

namespace gossamer::protocol {

nlohmann::json to_json(const ClientMessage& m);
nlohmann::json to_json(const ServerMessage& m);

// One frame's bytes. Invalid UTF-8 in a string (a detokenizer bug) is replaced with
// U+FFFD rather than throwing, so the server can always send a reply.
std::string encode(const ClientMessage& m);
std::string encode(const ServerMessage& m);

// Pieces used by both directions and by the CLI's --json output.
nlohmann::json chat_message_to_json(const ChatMessage& m);
nlohmann::json params_to_json(const Params& p);
nlohmann::json output_to_json(const Output& o);

}  // namespace gossamer::protocol
