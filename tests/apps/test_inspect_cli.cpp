// The real `gossamer inspect` binary on good and corrupt checkpoints.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>

#include "tests/common/checkpoint_fixtures.h"

namespace gossamer {
namespace {

using namespace gossamer::testing;

struct CliResult {
  int status = -1;
  std::string output;
};

CliResult run_cli(const std::string& args) {
  CliResult r;
  std::string cmd = std::string(GOSSAMER_BINARY) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

TEST(InspectCli, GoodCheckpoint) {
  CliResult r = run_cli("inspect --model " + tiny_dir().string());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("model.layers.3.mlp.experts.down_proj_blocks"), std::string::npos);
  EXPECT_NE(r.output.find("KV cache per 1k tokens"), std::string::npos);
  CliResult j = run_cli("inspect --json --layout original --model " + tiny_dir().string());
  EXPECT_EQ(j.status, 0) << j.output;
  auto report = nlohmann::json::parse(j.output);
  EXPECT_EQ(report["layout"], "original");
  EXPECT_EQ(report["tensors"].size(), 63u);
  EXPECT_EQ(report["check"], "ok");
}

TEST(InspectCli, TruncatedShardFailsNamingFileAndTensor) {
  TempDir t;
  fs::path m = copy_tiny(t);
  fs::path shard = m / "model-00002-of-00002.safetensors";
  fs::resize_file(shard, fs::file_size(shard) - 4096);
  CliResult r = run_cli("inspect --model " + m.string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("model-00002-of-00002.safetensors"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("lm_head.weight"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("truncated"), std::string::npos) << r.output;
}

TEST(InspectCli, ShapeMismatchFails) {
  TempDir t;
  fs::path m = copy_tiny(t);
  auto j = read_json(m / "config.json");
  j["intermediate_size"] = 416;
  write_json(m / "config.json", j);
  CliResult r = run_cli("inspect --model " + m.string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("model.layers.0.mlp.experts.gate_up_proj_blocks"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gossamer
