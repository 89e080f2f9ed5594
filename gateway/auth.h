#pragma once
// HTTP authentication: OpenAI-style bearer API keys read from a file (never from the
// command line, where `ps` shows them), and the rule that a gateway reachable from other
// machines must ask for one.
#include <string>
#include <string_view>
#include <vector>

namespace gossamer::gateway {

// One key per line; blank lines and lines starting with '#' are skipped, surrounding
// whitespace is trimmed. Throws gossamer::Error when the file cannot be read or holds no key.
std::vector<std::string> load_api_keys(const std::string& path);

// True when `authorization` is "Bearer <key>" with one of `keys`. Compares in time that
// does not depend on where a guess first differs.
bool bearer_matches(std::string_view authorization, const std::vector<std::string>& keys);

// 127.0.0.0/8, ::1 and "localhost": addresses no other machine can reach.
bool is_loopback_host(const std::string& host);

// Throws kInvalidArgument when `host` is not loopback, no keys are configured and
// `insecure` was not given.
void check_listen_policy(const std::string& host, bool have_keys, bool insecure);

}  // namespace gossamer::gateway
