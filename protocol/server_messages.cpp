#include "protocol/server_messages.h"

namespace gossamer::protocol {

bool is_terminal(const ServerMessage& m) {
  if (std::holds_alternative<Done>(m)) return true;
  if (const auto* e = std::get_if<ErrorReply>(&m)) return e->id.has_value();
  return false;
}

std::optional<std::string> request_id_of(const ServerMessage& m) {
  return std::visit([](const auto& x) -> std::optional<std::string> { return x.id; }, m);
}

ErrorReply make_error_reply(const Error& e) {
  ErrorReply r{e.code, e.message, std::nullopt, std::nullopt};
  // A duplicate id must not look like the terminal reply of the live request it collides
  // with; errors about cancel/health/stats never terminate a request either.
  // An empty id names no request (PROTOCOL.md: ids are 1-256 bytes), so it goes to `ref`.
  const bool terminates = e.id && !e.id->empty() && e.about == std::optional<std::string>("submit") &&
                          e.code != ErrorCode::kDuplicateId;
  if (terminates) r.id = e.id;
  else r.ref = e.id;
  return r;
}

}  // namespace gossamer::protocol
