// The executor checks a plan's block tables before anything runs: a step that would read a
// block another sequence owns, or one handed back, fails with a clear error instead.
#include <gtest/gtest.h>

#include "comm/communicator.h"
#include "core/error.h"
#include "golden_data.h"
#include "worker/rank_executor.h"

namespace gossamer::worker {
namespace {

using gossamer::testing::tiny_model_dir;

class BlockTables : public ::testing::Test {
 protected:
  void SetUp() override {
    world_ = comm::make_local_communicator("world");
    ExecutorOptions o;
    o.threads = 1;
    o.block_size = 4;
    o.num_blocks = 16;
    o.num_window_blocks = 6;
    executor_ = std::make_unique<RankExecutor>(tiny_model_dir(), o, *world_);
  }

  // A decode of one token at `pos` with the given tables.
  static StepPlan decode_at(int64_t pos, std::vector<int32_t> full, std::vector<int32_t> window) {
    StepPlan p;
    SequencePlan s;
    s.seq_id = 0;
    s.start_pos = pos;
    s.token_ids = {5};
    s.block_table = std::move(full);
    s.window_block_table = std::move(window);
    p.sequences.push_back(s);
    return p;
  }

  std::string error_of(StepPlan plan) {
    try {
      executor_->run_step(&plan);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument) << e.what();
      return e.what();
    }
    return "";
  }

  std::unique_ptr<comm::Communicator> world_;
  std::unique_ptr<RankExecutor> executor_;
};

TEST_F(BlockTables, PoolsAreResolvedFromTheModel) {
  const auto& kv = executor_->kv_pool_sizes();
  EXPECT_EQ(kv.window, 8);
  EXPECT_EQ(kv.full_blocks, 16);
  EXPECT_EQ(kv.window_blocks, 6);
}

TEST_F(BlockTables, DroppedWindowBlocksBeforeTheWindowRun) {
  // Position 12 sees 5..12: logical blocks 1..3. Block 0 may be handed back.
  StepPlan prefill;
  SequencePlan s;
  s.seq_id = 0;
  s.token_ids = std::vector<int32_t>(12, 7);
  s.block_table = {0, 1, 2};
  s.window_block_table = {0, 1, 2};
  prefill.sequences.push_back(s);
  ASSERT_EQ(executor_->run_step(&prefill).sequences.size(), 1u);
  EXPECT_EQ(error_of(decode_at(12, {0, 1, 2, 3}, {kNoBlock, 1, 2, 3})), "");
}

TEST_F(BlockTables, BadTablesAreRefusedWithTheReason) {
  EXPECT_NE(error_of(decode_at(12, {0, 1, 2, 3}, {0, kNoBlock, 2, 3})).find("window KV block -1 at logical block 1"),
            std::string::npos);
  EXPECT_NE(error_of(decode_at(12, {0, 1, 2, 16}, {0, 1, 2, 3})).find("KV block 16 out of range [0, 16)"),
            std::string::npos);
  EXPECT_NE(error_of(decode_at(12, {0, 1, 2, 3}, {0, 1, 2, 6})).find("out of range [0, 6)"), std::string::npos);
  EXPECT_NE(error_of(decode_at(12, {0, 1, 2, 3}, {})).find("window block table of 0 blocks, 4 needed"),
            std::string::npos);
  EXPECT_NE(error_of(decode_at(12, {0, 1, 2}, {0, 1, 2, 3})).find("block table of 3 blocks, 4 needed"),
            std::string::npos);
}

}  // namespace
}  // namespace gossamer::worker
