#include "protocol/inflight_ids.h"

namespace gossamer::protocol {

std::optional<Error> InflightIds::begin(const std::string& connection, const std::string& id) {
  if (!by_connection_[connection].insert(id).second)
    return Error{ErrorCode::kDuplicateId,
                 "id '" + id + "' is already in flight on this connection", id, "submit"};
  ++total_;
  return std::nullopt;
}

std::optional<Error> InflightIds::check_cancel(const std::string& connection,
                                               const std::string& id) const {
  if (contains(connection, id)) return std::nullopt;
  return Error{ErrorCode::kUnknownId,
               "cancel: no request '" + id + "' in flight on this connection", id, "cancel"};
}

bool InflightIds::finish(const std::string& connection, const std::string& id) {
  auto it = by_connection_.find(connection);
  if (it == by_connection_.end() || it->second.erase(id) == 0) return false;
  --total_;
  if (it->second.empty()) by_connection_.erase(it);
  return true;
}

std::vector<std::string> InflightIds::drop_connection(const std::string& connection) {
  std::vector<std::string> ids;
  auto it = by_connection_.find(connection);
  if (it == by_connection_.end()) return ids;
  ids.assign(it->second.begin(), it->second.end());
  total_ -= ids.size();
  by_connection_.erase(it);
  return ids;
}

ErrorReply InflightIds::error_reply(const std::string& connection, const Error& e) const {
  ErrorReply r = make_error_reply(e);
  if (r.id && contains(connection, *r.id)) {
    r.ref = std::move(r.id);
    r.id.reset();
  }
  return r;
}

bool InflightIds::contains(const std::string& connection, const std::string& id) const {
  auto it = by_connection_.find(connection);
  return it != by_connection_.end() && it->second.count(id) > 0;
}

size_t InflightIds::count(const std::string& connection) const {
  auto it = by_connection_.find(connection);
  return it == by_connection_.end() ? 0 : it->second.size();
}

}  // namespace gossamer::protocol
