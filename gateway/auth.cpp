#include "gateway/auth.h"

#include <fstream>

#include "core/error.h"

namespace gossamer::gateway {
namespace {

std::string trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  const size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

bool same(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

}  // namespace

std::vector<std::string> load_api_keys(const std::string& path) {
  std::ifstream f(path);
  if (!f) GOSSAMER_THROW(kNotFound, "cannot read the API key file '{}'", path);
  std::vector<std::string> keys;
  std::string line;
  while (std::getline(f, line)) {
    line = trim(line);
    if (line.empty() || line[0] == '#') continue;
    keys.push_back(line);
  }
  if (keys.empty()) GOSSAMER_THROW(kInvalidArgument, "the API key file '{}' holds no key", path);
  return keys;
}

bool bearer_matches(std::string_view authorization, const std::vector<std::string>& keys) {
  constexpr std::string_view kPrefix = "Bearer ";
  if (authorization.substr(0, kPrefix.size()) != kPrefix) return false;
  const std::string_view given = authorization.substr(kPrefix.size());
  bool found = false;
  for (const auto& k : keys) found |= same(given, k);  // no early exit: every key is compared
  return found;
}

bool is_loopback_host(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

void check_listen_policy(const std::string& host, bool have_keys, bool insecure) {
  if (is_loopback_host(host) || have_keys || insecure) return;
  GOSSAMER_THROW(kInvalidArgument,
                 "refusing to listen on {} without authentication: pass --api-key-file FILE, "
                 "or --insecure to serve anyone who can reach it", host);
}

}  // namespace gossamer::gateway
