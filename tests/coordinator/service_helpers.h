#pragma once
// Small helpers shared by the service tests.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
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

// A tiny-width model with 12 layers under /tmp/gossamer-svc-test-<tag>-<pid> (written by
// `gossamer synth`), where a prefill of long_prefill_prompt() runs for seconds on one
// thread: the tests that need a step in flight use it. Empty when synth failed.
inline std::string synth_deep_model(const std::string& tag) {
  const std::string dir = "/tmp/gossamer-svc-test-" + tag + "-" + std::to_string(::getpid());
  const std::string cmd = std::string(GOSSAMER_BINARY) +
                          " --log-level warn synth --preset tiny --layers 12 --seed 3 --force --out " + dir +
                          " > /dev/null";
  return std::system(cmd.c_str()) == 0 ? dir : std::string();
}

// 3000 in-vocabulary ids: one prefill step of seconds on synth_deep_model's model.
inline std::vector<int32_t> long_prefill_prompt() {
  std::vector<int32_t> prompt(3000);
  for (size_t i = 0; i < prompt.size(); ++i) prompt[i] = static_cast<int32_t>((i * 7919 + 13) % 4000);
  return prompt;
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
