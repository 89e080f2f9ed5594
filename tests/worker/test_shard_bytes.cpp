// shard_bytes (gossamer inspect --parallel): per-rank mapped bytes of a layout, summed over
// the ranks, equal the checkpoint's bytes with every replicated part counted once per rank
// that holds it — on the tiny model, in both layouts, for the layouts of the MPI tests.
#include <gtest/gtest.h>

#include "model/tensor_names.h"
#include "tests/common/checkpoint_fixtures.h"
#include "worker/runtime_config.h"
#include "worker/shard_bytes.h"

namespace gossamer::worker {
namespace {

using namespace gossamer::testing;
using model::CheckpointLayout;

uint64_t bytes_of(const model::Checkpoint& ck, const std::string& name) {
  const auto* t = ck.find(name);
  return t ? t->nbytes : 0;
}

// The expected sum over all ranks, from copy counts alone: a stage has dp * tp ranks;
// tensors split over TP (heads, vocab) exist once per DP replica; tensors held whole by
// every rank of a stage dp * tp times; experts once per EP group (dp * tp / ep groups).
uint64_t expected_sum(const model::Checkpoint& ck, const ParallelConfig& p) {
  const auto g = model::global_tensor_names(ck.layout());
  const uint64_t stage_ranks = static_cast<uint64_t>(p.dp * p.tp);
  uint64_t sum = bytes_of(ck, g.embedding) * stage_ranks + bytes_of(ck, g.final_norm) * stage_ranks +
                 bytes_of(ck, g.unembedding) * static_cast<uint64_t>(p.dp);
  for (int l = 0; l < ck.config().num_hidden_layers; ++l) {
    const auto n = model::layer_tensor_names(ck.layout(), l);
    uint64_t split = bytes_of(ck, n.sinks) + bytes_of(ck, n.o_weight) + bytes_of(ck, n.q_weight) +
                     bytes_of(ck, n.q_bias);
    if (!n.fused_qkv)
      split += bytes_of(ck, n.k_weight) + bytes_of(ck, n.k_bias) + bytes_of(ck, n.v_weight) + bytes_of(ck, n.v_bias);
    const uint64_t whole = bytes_of(ck, n.attn_norm) + bytes_of(ck, n.mlp_norm) + bytes_of(ck, n.router_weight) +
                           bytes_of(ck, n.router_bias) + bytes_of(ck, n.o_bias);
    uint64_t experts = 0;
    for (const auto* t : {&n.mlp1_blocks, &n.mlp1_scales, &n.mlp1_bias, &n.mlp2_blocks, &n.mlp2_scales,
                          &n.mlp2_bias})
      experts += bytes_of(ck, *t);
    sum += split * static_cast<uint64_t>(p.dp) + whole * stage_ranks + experts * (stage_ranks / static_cast<uint64_t>(p.ep));
  }
  return sum;
}

class ShardBytesTest : public ::testing::TestWithParam<CheckpointLayout> {};

TEST_P(ShardBytesTest, OneRankMapsEveryTensorOnce) {
  auto ck = model::Checkpoint::open(tiny_dir(), GetParam());
  uint64_t all = 0;
  for (const auto& t : ck->tensors()) all += t.nbytes;
  Mapping m(1, 0, {}, ModelDims::from_config(ck->config()));
  const auto b = shard_bytes(*ck, m);
  EXPECT_EQ(b.total(), all);
  EXPECT_GT(b.experts, 0u);
  EXPECT_GT(b.attention, 0u);
  EXPECT_GT(b.embedding, 0u);
  EXPECT_GT(b.lm_head, 0u);
}

TEST_P(ShardBytesTest, LayoutsSumToReplicatedTotals) {
  auto ck = model::Checkpoint::open(tiny_dir(), GetParam());
  const auto dims = ModelDims::from_config(ck->config());
  for (const char* spec : {"tp=2", "tp=2,ep=2", "dp=2,ep=2", "pp=2", "tp=4", "tp=4,ep=4", "dp=4,ep=4",
                           "tp=2,dp=2,ep=4", "tp=2,pp=2", "dp=2,ep=2,pp=2", "tp=2,dp=2,ep=2"}) {
    const ParallelConfig p = parse_parallel(spec);
    uint64_t sum = 0;
    for (int r = 0; r < p.world_size(); ++r) {
      Mapping m(p.world_size(), r, p, dims);
      const auto b = shard_bytes(*ck, m);
      EXPECT_EQ(b.embedding > 0, m.is_first_stage()) << spec << " rank " << r;
      EXPECT_EQ(b.lm_head > 0, m.is_last_stage()) << spec << " rank " << r;
      sum += b.total();
    }
    EXPECT_EQ(sum, expected_sum(*ck, p)) << spec;
  }
}

TEST(ShardBytes, ExpertsShrinkWithEp) {
  auto ck = model::Checkpoint::open(tiny_dir());
  const auto dims = ModelDims::from_config(ck->config());
  const auto one = shard_bytes(*ck, Mapping(1, 0, {}, dims));
  const auto ep4 = shard_bytes(*ck, Mapping(4, 1, parse_parallel("dp=4,ep=4"), dims));
  EXPECT_EQ(ep4.experts * 4, one.experts);
  EXPECT_EQ(ep4.attention, one.attention);  // DP replicas hold all heads
  const auto pp2_last = shard_bytes(*ck, Mapping(2, 1, parse_parallel("pp=2"), dims));
  EXPECT_EQ(pp2_last.embedding, 0u);
  EXPECT_EQ(pp2_last.lm_head, one.lm_head);
}

INSTANTIATE_TEST_SUITE_P(Layouts, ShardBytesTest,
                         ::testing::Values(CheckpointLayout::kHF, CheckpointLayout::kOriginal));

}  // namespace
}  // namespace gossamer::worker
