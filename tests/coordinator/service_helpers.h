#pragma once
// Small helpers shared by the service tests.
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "client/client.h"
#include "client/stream.h"
#include "protocol/client_messages.h"

namespace gossamer::testing {

using namespace std::chrono_literals;

inline protocol::Submit token_submit(const std::string& id, std::vector<int32_t> tokens, int64_t max_tokens,
                                     double temperature = 0, bool stream = true) {
  protocol::Submit s;
  s.id = id;
  s.tokens = std::move(tokens);
  s.params.max_tokens = max_tokens;
  s.params.temperature = temperature;
  s.params.seed = 1234;
  s.params.stream = stream;
  return s;
}

inline client::StreamResult run_one(client::Client& c, protocol::Submit s) {
  const std::string id = c.submit(std::move(s));
  client::StreamOptions o;
  o.idle_timeout = 30s;
  o.total_timeout = 120s;
  return client::collect_stream(c, id, o);
}

// Output of a shell command (stdout only).
inline std::string shell(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

inline std::vector<int32_t> parse_ids(const std::string& line) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos < line.size()) {
    size_t used = 0;
    try {
      ids.push_back(std::stoi(line.substr(pos), &used));
    } catch (...) {
      break;
    }
    pos += used;
    if (pos < line.size() && line[pos] == ',') ++pos;
    else break;
  }
  return ids;
}

inline std::string write_file(const std::string& path, const std::string& text) {
  std::ofstream(path) << text;
  return path;
}

}  // namespace gossamer::testing
