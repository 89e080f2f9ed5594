#pragma once
// OpenAI request bodies -> front-door submits (docs/PROTOCOL.md). Every field OpenAI
// defines is either mapped or refused with a 400 naming it: a client that asks for n=2
// or logprobs learns it will not get them, instead of silently getting something else.
// The submit is then checked with the front door's own parser, so a value the front door
// would refuse is refused here with the same message.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace gossamer::gateway {

struct UpstreamRequest {
  nlohmann::json submit;       // the submit frame, with "id" filled by finish_submit
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::string model;           // as the client named it ("" = not given)
};

// Text -> token ids, for /v1/completions (a raw prompt skips the chat template, so the
// gateway tokenizes it). Empty function: string prompts are refused.
using Tokenize = std::function<std::vector<int32_t>(const std::string&)>;

// Both throw ApiError.
UpstreamRequest chat_completion_request(const nlohmann::json& body);
UpstreamRequest completion_request(const nlohmann::json& body, const Tokenize& tokenize);

// Sets the request id and validates the frame with protocol::parse_client_message.
// Returns the frame's bytes. Throws ApiError.
std::string finish_submit(UpstreamRequest& r, const std::string& id);

}  // namespace gossamer::gateway
