// `generate` and `eval-logits` unchanged under mpirun with --parallel: rank 0 prints or
// writes what one rank would (the golden continuation / logits).
#ifdef GOSSAMER_MPIEXEC
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/npy.h"

namespace gossamer {
namespace {

using testing::join_ids;
using testing::temp_dir;

testing::CliResult mpirun(int np, const std::string& args) {
  // Root and 2 cores: the launcher needs to be told both are fine.
  std::string cmd = "env OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 " +
                    std::string(GOSSAMER_MPIEXEC) + " --oversubscribe --bind-to none -np " +
                    std::to_string(np) + " " + GOSSAMER_BINARY + " --log-level warn " + args + " 2>&1";
  testing::CliResult r;
  FILE* p = popen(cmd.c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

nlohmann::json sequence(int i) {
  std::ifstream f(std::string(GOSSAMER_TEST_DATA) + "/tiny/golden/manifest.json");
  return nlohmann::json::parse(f)["sequences"][static_cast<size_t>(i)];
}

const std::string kModel = std::string(GOSSAMER_TEST_DATA) + "/tiny/model";

TEST(CliMpirun, GenerateWithTensorAndExpertParallelMatchesGolden) {
  const auto s = sequence(3);
  auto r = mpirun(2, "generate --model " + kModel + " --parallel tp=2,ep=2 --moe-dispatch alltoall --tokens " +
                         join_ids(s["prompt"].get<std::vector<int32_t>>()) + " --max-tokens 16");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find(join_ids(s["greedy"].get<std::vector<int32_t>>())), std::string::npos) << r.output;
}

// Precision fast on split layouts: every rank runs the int8/bf16 kernels on its shard
// (heads, experts or layers) and the bf16 KV cache; the greedy tokens over each sequence's
// bf16_strict_greedy_prefix (the golden bf16 tier's greedy rule) are the golden ones.
TEST(CliMpirun, FastPrecisionOnSplitLayoutsKeepsTheStrictGreedyPrefix) {
  int checked = 0;
  for (int i : {2, 3, 4}) {
    const auto s = sequence(i);
    const auto greedy = s["greedy"].get<std::vector<int32_t>>();
    const size_t strict = s["bf16_strict_greedy_prefix"].get<size_t>();
    if (strict == 0) continue;
    const std::string want = join_ids(std::vector<int32_t>(greedy.begin(), greedy.begin() + long(strict)));
    for (const char* layout : {"tp=2,ep=2", "pp=2"}) {
      auto r = mpirun(2, "generate --model " + kModel + " --precision fast --parallel " + layout + " --tokens " +
                             join_ids(s["prompt"].get<std::vector<int32_t>>()) + " --max-tokens " +
                             std::to_string(strict));
      ASSERT_EQ(r.exit_code, 0) << layout << ": " << r.output;
      EXPECT_NE(r.output.find(want), std::string::npos) << layout << ", sequence " << i << ": " << r.output;
      ++checked;
    }
  }
  EXPECT_GT(checked, 0) << "no sequence has a strict greedy prefix: nothing was judged";
}

TEST(CliMpirun, EvalLogitsWithPipelineStagesMatchesGolden) {
  const auto s = sequence(4);
  const auto tokens = s["tokens"].get<std::vector<int32_t>>();
  const std::string out = temp_dir("mpi-eval") + "/l.npy";
  auto r = mpirun(2, "eval-logits --model " + kModel + " --parallel pp=2 --tokens " + join_ids(tokens) + " --out " + out);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto npy = read_npy_f32(out);
  ASSERT_EQ(npy.shape[0], static_cast<int64_t>(tokens.size()));
  std::ifstream g(std::string(GOSSAMER_TEST_DATA) + "/tiny/golden/" + s["files"]["ref_fp32"].get<std::string>(),
                  std::ios::binary);
  std::vector<float> golden(npy.data.size());
  g.read(reinterpret_cast<char*>(golden.data()), static_cast<std::streamsize>(golden.size() * 4));
  double worst = 0;
  for (size_t i = 0; i < golden.size(); ++i) worst = std::max(worst, double(std::abs(golden[i] - npy.data[i])));
  EXPECT_LE(worst, 1e-3);
}

TEST(CliMpirun, LayoutThatDoesNotFitTheWorldIsAClearError) {
  auto r = mpirun(2, "generate --model " + kModel + " --parallel tp=3 --tokens 1,2");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("the world has 2"), std::string::npos) << r.output;
}

// bench joins the MPI world like the other verbs: every layout can be measured on the
// step path the service uses, and the JSON says which layout ran.
TEST(CliMpirun, BenchRunsAParallelLayoutAndReportsIt) {
  const std::string json = temp_dir("mpi-bench") + "/b.json";
  auto r = mpirun(2, "bench --model " + kModel + " --parallel tp=2 --prompt-tokens 16 --decode-tokens 4 --batch 2 "
                     "--json-out " + json);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::ifstream f(json);
  ASSERT_TRUE(f.good()) << r.output;
  const auto j = nlohmann::json::parse(f);
  EXPECT_EQ(j["ranks"], 2);
  EXPECT_EQ(j["layout"], "tp=2,dp=1,ep=1,pp=1");
  EXPECT_EQ(j["batch"], 2);
  EXPECT_GT(j["prefill_tokens_per_s"].get<double>(), 0);
  EXPECT_GT(j["decode_tokens_per_s"].get<double>(), 0);
}

}  // namespace
}  // namespace gossamer
#endif
