#include "gateway/api_error.h"

namespace gossamer::gateway {
namespace {

// "params.top_p: must be in (0, 1]" -> "top_p"; "messages[1].role: ..." -> "messages[1].role".
// The gateway names OpenAI's fields, and params.* are top-level fields in OpenAI's request.
std::optional<std::string> field_of(const std::string& message) {
  const size_t colon = message.find(": ");
  if (colon == std::string::npos || colon == 0) return std::nullopt;
  std::string path = message.substr(0, colon);
  if (path.find(' ') != std::string::npos) return std::nullopt;
  if (path.rfind("params.", 0) == 0) path = path.substr(7);
  return path;
}

}  // namespace

nlohmann::json ApiError::to_json() const {
  nlohmann::json e = {{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
  if (param) e["param"] = *param;
  if (code) e["code"] = *code;
  return {{"error", e}};
}

ApiError bad_request(std::string message, std::optional<std::string> param, std::string code) {
  return {400, std::move(message), "invalid_request_error", std::move(param), std::move(code), 0};
}

ApiError unsupported_field(const std::string& param, const std::string& why) {
  return bad_request(param + ": " + why, param, "unsupported_parameter");
}

ApiError from_upstream(protocol::ErrorCode code, const std::string& message) {
  using protocol::ErrorCode;
  const std::string wire = protocol::error_code_string(code);
  switch (code) {
    case ErrorCode::kTooLarge:
      return {413, message, "invalid_request_error", std::nullopt, wire, 0};
    case ErrorCode::kContextLength:
      return {400, message, "invalid_request_error", "messages", "context_length_exceeded", 0};
    case ErrorCode::kOverloaded:
      return {429, message, "rate_limit_error", std::nullopt, wire, 1};
    case ErrorCode::kShuttingDown:
    case ErrorCode::kRankFailure:
      return {503, message, "service_unavailable", std::nullopt, wire, 5};
    case ErrorCode::kInternal:
      return {500, message, "server_error", std::nullopt, wire, 0};
    case ErrorCode::kBadJson:
    case ErrorCode::kBadRequest:
    case ErrorCode::kUnknownType:
    case ErrorCode::kDuplicateId:
    case ErrorCode::kUnknownId:
    case ErrorCode::kInvalidUtf8:
    case ErrorCode::kUnsupportedVersion:
      break;
  }
  return {400, message, "invalid_request_error", field_of(message), wire, 0};
}

}  // namespace gossamer::gateway
