// `gossamer inspect --parallel`: the per-rank bytes table and its JSON (the sums are
// checked against copy counts in tests/worker/test_shard_bytes.cpp).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tests/apps/cli_runner.h"
#include "tests/common/checkpoint_fixtures.h"

namespace gossamer {
namespace {

using namespace gossamer::testing;

TEST(InspectParallel, TableOfRanks) {
  const auto r = run_gossamer("inspect --model " + tiny_dir().string() + " --parallel tp=2,dp=2,ep=4");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("bytes per rank, layout tp=2,dp=2,ep=4,pp=1 (4 ranks"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("largest rank"), std::string::npos);
}

TEST(InspectParallel, JsonSumsAndPipelineStages) {
  const auto r = run_gossamer("inspect --json --model " + tiny_dir().string() + " --parallel pp=2");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  const auto j = nlohmann::json::parse(r.output);
  const auto& ranks = j["parallel"]["ranks"];
  ASSERT_EQ(ranks.size(), 2u);
  EXPECT_GT(ranks[0]["embedding_bytes"].get<uint64_t>(), 0u);  // stage 0
  EXPECT_EQ(ranks[0]["lm_head_bytes"].get<uint64_t>(), 0u);
  EXPECT_EQ(ranks[1]["embedding_bytes"].get<uint64_t>(), 0u);  // last stage
  EXPECT_GT(ranks[1]["lm_head_bytes"].get<uint64_t>(), 0u);
  // pp splits without replication: the ranks together map the checkpoint once.
  EXPECT_EQ(j["parallel"]["sum_over_ranks_bytes"].get<uint64_t>(), j["tensor_bytes"].get<uint64_t>());
}

TEST(InspectParallel, LayoutThatDoesNotFitIsAnError) {
  const auto r = run_gossamer("inspect --model " + tiny_dir().string() + " --parallel tp=2,ep=4");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("ep=4 must divide"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gossamer
