#pragma once
// The library side of `gossamer submit`: one request, its stream printed as it arrives or
// one JSON document at the end. A CLI verb only fills SubmitOptions from its flags.
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"
#include "protocol/client_messages.h"

namespace gossamer::client {

struct SubmitOptions {
  std::string endpoint = "tcp://127.0.0.1:5555";
  std::string id;  // empty: generated
  // Input: exactly one of these. `messages_json` is an OpenAI-style JSON array of messages.
  std::optional<std::string> prompt;
  std::optional<std::string> messages_json;
  std::optional<std::vector<int32_t>> tokens;
  std::optional<std::string> system;  // with `prompt`: sent as messages [system, user]
  protocol::Params params;
  bool json = false;           // print one JSON document instead of the text stream
  bool show_thinking = false;  // text mode: also print the analysis channel (to `err`)
  Millis idle_timeout{60000};
  Millis total_timeout{600000};
};

// Exit codes a verb can return as is.
inline constexpr int kExitOk = 0;
inline constexpr int kExitServerError = 1;  // the server answered with an error
inline constexpr int kExitTransport = 2;    // timeout, unreachable server, bad frame
inline constexpr int kExitUsage = 3;        // the request itself is invalid (caught locally)

// Builds the submit from the options and validates it with the same parser the server
// runs, so a typo fails here with the server's words. Returns the error text on failure.
std::optional<std::string> build_submit(const SubmitOptions& o, protocol::Submit& out);

int run_submit(const SubmitOptions& options, std::ostream& out, std::ostream& err);

// "1,2, 3" -> {1, 2, 3}, for a --tokens flag. Throws gossamer::Error(kInvalidArgument).
std::vector<int32_t> parse_token_list(const std::string& text);

}  // namespace gossamer::client
