#include "protocol/error.h"

#include <array>

namespace gossamer::protocol {
namespace {

struct Entry {
  ErrorCode code;
  const char* name;
};

// Order is irrelevant; strings are the wire contract (docs/PROTOCOL.md, "Error codes").
constexpr std::array<Entry, 13> kEntries{{
    {ErrorCode::kBadJson, "bad_json"},
    {ErrorCode::kBadRequest, "bad_request"},
    {ErrorCode::kUnknownType, "unknown_type"},
    {ErrorCode::kDuplicateId, "duplicate_id"},
    {ErrorCode::kUnknownId, "unknown_id"},
    {ErrorCode::kTooLarge, "too_large"},
    {ErrorCode::kOverloaded, "overloaded"},
    {ErrorCode::kContextLength, "context_length"},
    {ErrorCode::kInvalidUtf8, "invalid_utf8"},
    {ErrorCode::kUnsupportedVersion, "unsupported_version"},
    {ErrorCode::kInternal, "internal"},
    {ErrorCode::kRankFailure, "rank_failure"},
    {ErrorCode::kShuttingDown, "shutting_down"},
}};

}  // namespace

const char* error_code_string(ErrorCode code) {
  for (const Entry& e : kEntries)
    if (e.code == code) return e.name;
  return "internal";
}

std::optional<ErrorCode> error_code_from_string(std::string_view s) {
  for (const Entry& e : kEntries)
    if (s == e.name) return e.code;
  return std::nullopt;
}

}  // namespace gossamer::protocol
