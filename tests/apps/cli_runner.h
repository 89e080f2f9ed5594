#pragma once
// Runs the real `gossamer` binary (path from the build) and captures its output.
#include <array>
#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include <sys/wait.h>

namespace gossamer::testing {

struct CliResult {
  int exit_code = -1;
  std::string output;  // stdout + stderr
};

inline CliResult run_gossamer(const std::string& args) {
  CliResult r;
  std::string cmd = std::string(GOSSAMER_BINARY) + " " + args + " 2>&1";
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.output.append(buf.data(), n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

inline std::string temp_dir(const std::string& name) {
  std::string dir = "/tmp/gossamer-test-" + name + "-" + std::to_string(::getpid());
  std::string cmd = "rm -rf " + dir + " && mkdir -p " + dir;
  if (std::system(cmd.c_str()) != 0) return "/tmp";
  return dir;
}

// "1,2,3": token ids as the CLI's --tokens takes them.
inline std::string join_ids(const std::vector<int32_t>& ids) {
  std::string s;
  for (size_t i = 0; i < ids.size(); ++i) s += (i ? "," : "") + std::to_string(ids[i]);
  return s;
}

}  // namespace gossamer::testing
