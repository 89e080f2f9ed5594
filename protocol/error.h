#pragma once
// Protocol errors as values. Every way a frame can be refused maps to one ErrorCode whose
// wire string is stable forever (clients switch on it); the message is for humans and may
// change. Parsers return Result<T> instead of throwing, so the front door can turn any
// refusal into an `error` reply and keep serving.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace gossamer::protocol {

enum class ErrorCode {
  kBadJson,             // "bad_json": the frame is not JSON
  kBadRequest,          // "bad_request": JSON, but a field is missing/wrong/out of range
  kUnknownType,         // "unknown_type": `type` names no client message
  kDuplicateId,         // "duplicate_id": submit id already in flight on this connection
  kUnknownId,           // "unknown_id": cancel of an id not in flight on this connection
  kTooLarge,            // "too_large": frame above the frame size limit
  kOverloaded,          // "overloaded": admission queue full
  kContextLength,       // "context_length": prompt (+ max_tokens) exceeds the context
  kInvalidUtf8,         // "invalid_utf8": the frame is not valid UTF-8
  kUnsupportedVersion,  // "unsupported_version": `v` is not a version this server speaks
  kInternal,            // "internal": a server bug; the request is failed, the server lives
  kRankFailure,         // "rank_failure": an MPI rank died or hung mid-request
  kShuttingDown,        // "shutting_down": server is draining; no new work
};

// Stable wire string ("bad_json", ...).
const char* error_code_string(ErrorCode code);
// Inverse of error_code_string; nullopt for a string this version does not know.
std::optional<ErrorCode> error_code_from_string(std::string_view s);

// A refusal. `id` is the client's request id when it was readable; `about` names the type
// of the client message that was refused ("submit", "cancel", ...) when it was readable,
// because only a refused *submit* terminates a request (see make_error_reply).
struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;
  std::optional<std::string> id;
  std::optional<std::string> about;
};

// Either a value or an Error. std::expected is C++23; this is the subset we need.
template <class T>
class Result {
 public:
  Result(T value) : v_(std::move(value)) {}           // NOLINT: implicit by design
  Result(Error error) : v_(std::move(error)) {}       // NOLINT
  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }
  T& value() { return std::get<0>(v_); }
  const T& value() const { return std::get<0>(v_); }
  const Error& error() const { return std::get<1>(v_); }

 private:
  std::variant<T, Error> v_;
};

}  // namespace gossamer::protocol
