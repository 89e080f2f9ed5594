#include "protocol/parse.h"

#include <set>
#include <vector>

#include "protocol/json_fields.h"
#include "protocol/parse_submit.h"
#include "protocol/utf8.h"

namespace gossamer::protocol {
namespace {

using detail::fail;
using detail::FieldError;
using json = nlohmann::json;

// Deep enough for any tool schema a person writes; shallow enough that no recursive
// walk over the tree (dump, destructor, our validators) can exhaust the stack.
constexpr size_t kMaxNesting = 64;

json parse_json_frame(std::string_view frame, const Limits& limits) {
  if (frame.size() > limits.max_frame_bytes)
    fail(ErrorCode::kTooLarge, "frame of " + std::to_string(frame.size()) +
                                   " bytes exceeds the limit of " +
                                   std::to_string(limits.max_frame_bytes) + " bytes");
  if (size_t at = find_invalid_utf8(frame); at != std::string_view::npos)
    fail(ErrorCode::kInvalidUtf8, "frame is not valid UTF-8 (first bad byte at offset " +
                                      std::to_string(at) + ")");
  if (detail::json_nesting_depth(frame) > kMaxNesting)
    fail(ErrorCode::kBadRequest,
         "JSON nested deeper than " + std::to_string(kMaxNesting) + " levels");
  // JSON allows duplicate keys and nlohmann keeps the last one; refusing them means no
  // proxy or log reader can see a different message than the one we act on.
  std::vector<std::set<std::string>> keys;
  auto no_duplicate_keys = [&keys](int, json::parse_event_t event, json& parsed) {
    if (event == json::parse_event_t::object_start) keys.emplace_back();
    else if (event == json::parse_event_t::object_end && !keys.empty()) keys.pop_back();
    else if (event == json::parse_event_t::key && !keys.empty() &&
             !keys.back().insert(parsed.get<std::string>()).second)
      fail(ErrorCode::kBadRequest, "duplicate key '" + parsed.get<std::string>() + "' in a JSON object");
    return true;
  };
  try {
    return json::parse(frame, no_duplicate_keys);
  } catch (const json::parse_error& e) {
    // The bytes are valid UTF-8, so a surrogate complaint means a "\uD800"-style escape
    // that encodes no character: the same fault as bad bytes.
    const std::string what = detail::json_error_text(e);
    if (what.find("surrogate") != std::string::npos)
      fail(ErrorCode::kInvalidUtf8, "string escape is not a valid UTF-16 pair: " + what);
    fail(ErrorCode::kBadJson, what);
  } catch (const json::out_of_range& e) {
    // Valid JSON, but a number no double can hold (1e999): a bad value, not bad syntax.
    fail(ErrorCode::kBadRequest, "number out of range: " + detail::json_error_text(e));
  }
}

void check_version(const json& msg) {
  const json* v = detail::find(msg, "v");
  if (v == nullptr)
    fail(ErrorCode::kBadRequest,
         "v: missing required field (this server speaks version " +
             std::to_string(kProtocolVersion) + ")");
  if (!v->is_number_integer())
    fail(ErrorCode::kBadRequest, "v: expected an integer");
  if (v->get<int64_t>() != kProtocolVersion)
    fail(ErrorCode::kUnsupportedVersion,
         "version " + v->dump() + " is not supported (this server speaks version " +
             std::to_string(kProtocolVersion) + ")");
}

std::optional<std::string> optional_id(const json& msg, const Limits& limits) {
  const json* id = detail::find(msg, "id");
  if (id == nullptr) return std::nullopt;
  std::string s = detail::as_nonempty_string(*id, "id");
  if (s.size() > limits.max_id_bytes)
    detail::bad("id", "longer than " + std::to_string(limits.max_id_bytes) + " bytes");
  return s;
}

ClientMessage parse_body(const json& msg, const std::string& type, const Limits& limits) {
  if (type == "submit") return detail::parse_submit_body(msg, limits);
  if (type == "cancel") {
    detail::reject_unknown_fields(msg, "", {"v", "type", "id"});
    std::optional<std::string> id = optional_id(msg, limits);
    if (!id) detail::bad("id", "missing required field");
    return Cancel{*id};
  }
  if (type == "health") {
    detail::reject_unknown_fields(msg, "", {"v", "type", "id"});
    return HealthRequest{optional_id(msg, limits)};
  }
  if (type == "stats") {
    detail::reject_unknown_fields(msg, "", {"v", "type", "id"});
    return StatsRequest{optional_id(msg, limits)};
  }
  fail(ErrorCode::kUnknownType,
       "type: unknown message type '" + type + "' (expected submit, cancel, health or stats)");
}

}  // namespace

Result<ClientMessage> parse_client_message(std::string_view frame, const Limits& limits) {
  Error err;
  try {
    json msg = parse_json_frame(frame, limits);
    if (!msg.is_object()) fail(ErrorCode::kBadRequest, "top level: expected a JSON object");
    // Read the id and type leniently first so that any later refusal can name them (an
    // empty id is kept too: make_error_reply puts it in `ref`, it names no request).
    if (auto it = msg.find("id"); it != msg.end() && it->is_string() &&
                                  it->get_ref<const std::string&>().size() <= limits.max_id_bytes)
      err.id = it->get<std::string>();
    if (auto it = msg.find("type"); it != msg.end() && it->is_string())
      err.about = it->get<std::string>();
    check_version(msg);
    const json* type = detail::find(msg, "type");
    if (type == nullptr) detail::bad("type", "missing required field");
    return parse_body(msg, detail::as_string(*type, "type"), limits);
  } catch (const FieldError& e) {
    err.code = e.code;
    err.message = e.message;
  } catch (const std::exception& e) {
    // nlohmann type errors etc. would be our bug; fail the message, not the server.
    err.code = ErrorCode::kInternal;
    err.message = "parser: " + detail::json_error_text(e);
  }
  return err;
}

std::optional<Error> check_prompt_length(const Submit& s, int64_t prompt_tokens,
                                         const Limits& limits) {
  if (limits.context_length <= 0 || prompt_tokens < limits.context_length) return std::nullopt;
  return Error{ErrorCode::kContextLength,
               "prompt of " + std::to_string(prompt_tokens) +
                   " tokens leaves no room to generate within the context of " +
                   std::to_string(limits.context_length) + " tokens",
               s.id, "submit"};
}

}  // namespace gossamer::protocol
