#pragma once
// Which request ids are in flight on which connection. The front door consults it before
// admitting a submit (duplicate_id) and a cancel (unknown_id), and on disconnect to find
// the requests to cancel. Not thread-safe: the one front-door thread that owns the ROUTER
// socket owns this too.
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "protocol/error.h"
#include "protocol/server_messages.h"

namespace gossamer::protocol {

class InflightIds {
 public:
  // `connection` is the ROUTER identity frame's bytes.
  // Registers `id`; duplicate_id (non-terminal, see make_error_reply) when already live.
  std::optional<Error> begin(const std::string& connection, const std::string& id);
  // unknown_id when `id` is not live on this connection (never submitted, or finished).
  std::optional<Error> check_cancel(const std::string& connection, const std::string& id) const;
  // Call when the terminal reply is sent. False when it was not live (a bug upstream:
  // the caller is about to send a second terminal reply).
  bool finish(const std::string& connection, const std::string& id);
  // Forgets the connection and returns its live ids so their requests can be cancelled.
  std::vector<std::string> drop_connection(const std::string& connection);

  // make_error_reply, plus: an id that is live on this connection goes to `ref`, because a
  // refused submit that reuses a live id must not look like that request's terminal reply.
  ErrorReply error_reply(const std::string& connection, const Error& e) const;

  bool contains(const std::string& connection, const std::string& id) const;
  size_t size() const { return total_; }
  // Requests in flight on one connection.
  size_t count(const std::string& connection) const;

 private:
  std::map<std::string, std::set<std::string>> by_connection_;
  size_t total_ = 0;
};

}  // namespace gossamer::protocol
