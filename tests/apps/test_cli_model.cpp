// End-to-end through the binary: eval-logits on the golden checkpoint, and eval-logits /
// generate agreeing on a checkpoint written by `synth`.
#include <unistd.h>

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "cli_runner.h"
#include "core/npy.h"

namespace gossamer {
namespace {

using testing::run_gossamer;
using testing::join_ids;
using testing::temp_dir;

nlohmann::json manifest() {
  std::ifstream f(std::string(GOSSAMER_TEST_DATA) + "/tiny/golden/manifest.json");
  return nlohmann::json::parse(f);
}

int64_t argmax(const float* row, int64_t n) {
  int64_t best = 0;
  for (int64_t i = 1; i < n; ++i)
    if (row[i] > row[best]) best = i;
  return best;
}

TEST(CliModel, EvalLogitsMatchesGolden) {
  const auto s = manifest()["sequences"][3];
  const auto tokens = s["tokens"].get<std::vector<int32_t>>();
  const std::string out = temp_dir("eval") + "/logits.npy";
  for (const char* layout : {"hf", "original"}) {
    auto r = run_gossamer("eval-logits --model " + std::string(GOSSAMER_TEST_DATA) +
                          "/tiny/model --layout " + layout + " --tokens " + join_ids(tokens) + " --out " + out);
    ASSERT_EQ(r.exit_code, 0) << r.output;
    auto npy = read_npy_f32(out);
    ASSERT_EQ(npy.shape, (std::vector<int64_t>{static_cast<int64_t>(tokens.size()), 4096}));
    std::ifstream g(std::string(GOSSAMER_TEST_DATA) + "/tiny/golden/" + s["files"]["ref_fp32"].get<std::string>(),
                    std::ios::binary);
    std::vector<float> golden(npy.data.size());
    g.read(reinterpret_cast<char*>(golden.data()), static_cast<std::streamsize>(golden.size() * 4));
    double worst = 0;
    for (size_t i = 0; i < golden.size(); ++i) worst = std::max(worst, double(std::abs(golden[i] - npy.data[i])));
    EXPECT_LE(worst, 1e-3) << layout;
  }
}

TEST(CliModel, DumpWritesNamedIntermediates) {
  const std::string dir = temp_dir("dump");
  auto r = run_gossamer("eval-logits --model " + std::string(GOSSAMER_TEST_DATA) +
                        "/tiny/model --tokens 1,2,3 --out " + dir + "/l.npy --dump attn_out:1 --dump "
                        "resid_after_mlp:* --dump final_norm --dump-dir " + dir);
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_EQ(read_npy_f32(dir + "/attn_out.1.npy").shape, (std::vector<int64_t>{3, 1024}));
  for (int l = 0; l < 4; ++l)
    EXPECT_EQ(read_npy_f32(dir + "/resid_after_mlp." + std::to_string(l) + ".npy").shape,
              (std::vector<int64_t>{3, 256}));
  EXPECT_EQ(read_npy_f32(dir + "/final_norm.npy").shape, (std::vector<int64_t>{3, 256}));
  auto bad = run_gossamer("eval-logits --model " + std::string(GOSSAMER_TEST_DATA) +
                          "/tiny/model --tokens 1 --out " + dir + "/x.npy --dump nonsense:1");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("nonsense"), std::string::npos) << bad.output;
}

TEST(CliModel, SynthCheckpointGenerateAgreesWithEvalLogits) {
  const std::string dir = temp_dir("synth");
  auto r = run_gossamer("synth --preset tiny --out " + dir + "/model --seed 11");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  r = run_gossamer("generate --model " + dir + "/model --tokens 5,6,7 --max-tokens 8 --json");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto j = nlohmann::json::parse(r.output.substr(r.output.find('{')));
  auto generated = j["tokens"].get<std::vector<int32_t>>();
  ASSERT_EQ(generated.size(), 8u);
  // Teacher-force prompt + generated: greedy token i must be the argmax of row 2 + i.
  std::vector<int32_t> all = {5, 6, 7};
  all.insert(all.end(), generated.begin(), generated.end());
  r = run_gossamer("eval-logits --model " + dir + "/model --tokens " + join_ids(all) + " --out " + dir + "/l.npy");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  auto npy = read_npy_f32(dir + "/l.npy");
  const int64_t V = npy.shape[1];
  for (size_t i = 0; i < generated.size(); ++i)
    EXPECT_EQ(argmax(npy.data.data() + (2 + i) * V, V), generated[i]) << "step " << i;
}

TEST(CliModel, GenerateIsReproducibleWithSeed) {
  const std::string model = std::string(GOSSAMER_TEST_DATA) + "/tiny/model";
  const std::string args = "generate --model " + model +
                           " --tokens 10,20,30 --max-tokens 12 --temperature 0.9 --top-p 0.9 --top-k 50 --seed ";
  auto a = run_gossamer(args + "42"), b = run_gossamer(args + "42"), c = run_gossamer(args + "43");
  ASSERT_EQ(a.exit_code, 0) << a.output;
  auto last_line = [](const std::string& s) {
    auto t = s.substr(0, s.find_last_not_of('\n') + 1);
    return t.substr(t.find_last_of('\n') + 1);
  };
  EXPECT_EQ(last_line(a.output), last_line(b.output));
  EXPECT_NE(last_line(a.output), last_line(c.output));
}

TEST(CliModel, BadArgumentsAreClearErrors) {
  const std::string model = std::string(GOSSAMER_TEST_DATA) + "/tiny/model";
  auto r = run_gossamer("generate --model " + model + " --tokens 1,x,3");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("bad token id 'x'"), std::string::npos) << r.output;
  r = run_gossamer("generate --model " + model + " --tokens 99999");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("outside the vocabulary"), std::string::npos) << r.output;
  r = run_gossamer("generate --model /nonexistent --tokens 1");
  EXPECT_NE(r.exit_code, 0);
}

}  // namespace
}  // namespace gossamer
