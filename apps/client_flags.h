#pragma once
// Flags shared by the client verbs (submit, chat): the sampling params of a request.
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "protocol/client_messages.h"

namespace gossamer::apps {

struct ParamFlags {
  int64_t max_tokens = 0;  // 0 = server default
  double temperature = -1, top_p = -1;
  int64_t top_k = -1;
  int64_t seed = -1;
  std::vector<std::string> stop;
  std::string reasoning_effort;
  void add_to(CLI::App* cmd);
  protocol::Params params() const;
};

}  // namespace gossamer::apps
