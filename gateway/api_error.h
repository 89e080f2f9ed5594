#pragma once
// Errors as OpenAI error objects: {"error": {"message", "type", "param", "code"}} with the
// HTTP status an OpenAI client expects. Every refusal of the gateway, and every error the
// front door answers a request with, goes out through this one shape, so SDKs raise their
// typed exceptions (BadRequestError, RateLimitError, ...) for it.
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "protocol/error.h"

namespace gossamer::gateway {

struct ApiError {
  int status = 500;
  std::string message;
  std::string type = "server_error";  // invalid_request_error, authentication_error, ...
  std::optional<std::string> param;   // the request field at fault, when one is
  std::optional<std::string> code;    // machine-readable: the front door's code, or ours
  int retry_after_s = 0;              // > 0: sent as Retry-After (429, 503)

  nlohmann::json to_json() const;
};

ApiError bad_request(std::string message, std::optional<std::string> param = std::nullopt,
                     std::string code = "invalid_request");
// A request field this gateway does not implement: always refused, never ignored.
ApiError unsupported_field(const std::string& param, const std::string& why);

// The front door's error for a request -> the HTTP status and object. `message` is the
// front door's; a field path at its start ("params.top_p: ...") becomes `param`.
ApiError from_upstream(protocol::ErrorCode code, const std::string& message);

}  // namespace gossamer::gateway
