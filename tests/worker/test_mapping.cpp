// Mapping worked examples: every rank's coordinates and slices written out by hand.
#include <gtest/gtest.h>

#include <map>
#include <vector>

#include "core/error.h"
#include "worker/mapping.h"
#include "worker/weights.h"

namespace gossamer::worker {
namespace {

// gpt-oss-20b: 24 layers, 64 query heads, 8 KV heads, 32 experts, vocab 201088.
const ModelDims k20b{24, 64, 8, 32, 201088};
// tests/data/tiny: 4 layers, 16 query heads, 4 KV heads, 8 experts, vocab 4096.
const ModelDims kTiny{4, 16, 4, 8, 4096};

struct Expect {
  int dp, pp, tp, ep_group, ep;
  Range layers, q_heads, kv_heads, experts, vocab;
};

void check_rank(const Mapping& m, const Expect& e) {
  SCOPED_TRACE("rank " + std::to_string(m.rank()));
  EXPECT_EQ(m.dp_rank(), e.dp);
  EXPECT_EQ(m.pp_rank(), e.pp);
  EXPECT_EQ(m.tp_rank(), e.tp);
  EXPECT_EQ(m.ep_group(), e.ep_group);
  EXPECT_EQ(m.ep_rank(), e.ep);
  EXPECT_EQ(m.layers(), e.layers);
  EXPECT_EQ(m.q_heads(), e.q_heads);
  EXPECT_EQ(m.kv_heads(), e.kv_heads);
  EXPECT_EQ(m.experts(), e.experts);
  EXPECT_EQ(m.vocab(), e.vocab);
  EXPECT_EQ(m.world_rank_of(e.dp, e.pp, e.tp), m.rank());
}

// The groups a GroupSpec getter describes: color → world ranks ordered by key.
template <typename Get>
std::vector<std::vector<int>> groups_of(const Mapping& m, Get get) {
  std::map<int, std::map<int, int>> by_color;
  for (int r = 0; r < m.world_size(); ++r) {
    const comm::GroupSpec s = get(m.for_rank(r).group_layout());
    EXPECT_TRUE(by_color[s.color].emplace(s.key, r).second) << "duplicate key in a group";
  }
  std::vector<std::vector<int>> out;
  for (auto& [color, members] : by_color) {
    out.emplace_back();
    for (auto& [key, rank] : members) out.back().push_back(rank);
  }
  return out;
}

using Groups = std::vector<std::vector<int>>;

TEST(Mapping, World8Tp2Dp2Pp2Ep4) {
  // rank = (dp * 2 + pp) * 2 + tp; EP spans the 4 DP×TP ranks of a stage.
  const Mapping m0(8, 0, {.tp = 2, .dp = 2, .ep = 4, .pp = 2}, k20b);
  const Range L0{0, 12}, L1{12, 24}, Q0{0, 32}, Q1{32, 64}, K0{0, 4}, K1{4, 8};
  const Range V0{0, 100544}, V1{100544, 201088};
  const Expect expect[8] = {
      // dp pp tp eg ep  layers q   kv  experts     vocab
      {0, 0, 0, 0, 0, L0, Q0, K0, {0, 8}, V0},    // rank 0
      {0, 0, 1, 0, 1, L0, Q1, K1, {8, 16}, V1},   // rank 1
      {0, 1, 0, 0, 0, L1, Q0, K0, {0, 8}, V0},    // rank 2
      {0, 1, 1, 0, 1, L1, Q1, K1, {8, 16}, V1},   // rank 3
      {1, 0, 0, 0, 2, L0, Q0, K0, {16, 24}, V0},  // rank 4
      {1, 0, 1, 0, 3, L0, Q1, K1, {24, 32}, V1},  // rank 5
      {1, 1, 0, 0, 2, L1, Q0, K0, {16, 24}, V0},  // rank 6
      {1, 1, 1, 0, 3, L1, Q1, K1, {24, 32}, V1},  // rank 7
  };
  for (int r = 0; r < 8; ++r) check_rank(m0.for_rank(r), expect[r]);

  EXPECT_EQ(groups_of(m0, [](auto g) { return g.tp; }), (Groups{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  EXPECT_EQ(groups_of(m0, [](auto g) { return g.dp; }), (Groups{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  EXPECT_EQ(groups_of(m0, [](auto g) { return g.pp; }), (Groups{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  EXPECT_EQ(groups_of(m0, [](auto g) { return g.ep; }), (Groups{{0, 1, 4, 5}, {2, 3, 6, 7}}));

  EXPECT_EQ(m0.next_stage_rank(), 2);
  EXPECT_EQ(m0.prev_stage_rank(), -1);
  EXPECT_EQ(m0.for_rank(7).prev_stage_rank(), 5);
  EXPECT_EQ(m0.for_rank(7).next_stage_rank(), -1);
  EXPECT_TRUE(m0.holds_embedding());
  EXPECT_FALSE(m0.holds_lm_head());
  EXPECT_TRUE(m0.for_rank(3).holds_lm_head());
  EXPECT_TRUE(m0.adds_row_parallel_bias());
  EXPECT_FALSE(m0.for_rank(1).adds_row_parallel_bias());
  // Sequences alternate between the two DP replicas.
  EXPECT_EQ(m0.dp_replica_of(0), 0);
  EXPECT_EQ(m0.dp_replica_of(5), 1);
  EXPECT_TRUE(m0.for_rank(6).owns_sequence(7));
  EXPECT_FALSE(m0.for_rank(6).owns_sequence(8));
}

TEST(Mapping, Tp4World4) {
  // ep=1: four EP groups of one rank, each holding all 32 experts.
  const Mapping m(4, 0, {.tp = 4}, k20b);
  for (int r = 0; r < 4; ++r) {
    check_rank(m.for_rank(r), {0, 0, r, r, 0, {0, 24}, {16 * r, 16 * r + 16},
                               {2 * r, 2 * r + 2}, {0, 32}, {50272 * r, 50272 * (r + 1)}});
  }
  EXPECT_EQ(groups_of(m, [](auto g) { return g.tp; }), (Groups{{0, 1, 2, 3}}));
  EXPECT_EQ(groups_of(m, [](auto g) { return g.dp; }), (Groups{{0}, {1}, {2}, {3}}));
  EXPECT_EQ(groups_of(m, [](auto g) { return g.ep; }), (Groups{{0}, {1}, {2}, {3}}));
}

TEST(Mapping, Dp4Ep4World4) {
  // DP-attention: every rank holds all heads and the full vocab, a quarter of the experts.
  const Mapping m(4, 0, {.dp = 4, .ep = 4}, kTiny);
  for (int r = 0; r < 4; ++r)
    check_rank(m.for_rank(r), {r, 0, 0, 0, r, {0, 4}, {0, 16}, {0, 4}, {2 * r, 2 * r + 2},
                               {0, 4096}});
  EXPECT_EQ(groups_of(m, [](auto g) { return g.ep; }), (Groups{{0, 1, 2, 3}}));
  EXPECT_EQ(groups_of(m, [](auto g) { return g.dp; }), (Groups{{0, 1, 2, 3}}));
  EXPECT_EQ(groups_of(m, [](auto g) { return g.tp; }), (Groups{{0}, {1}, {2}, {3}}));
  EXPECT_EQ(m.for_rank(2).dp_replica_of(6), 2);
}

TEST(Mapping, Tp2Dp2Ep4World4) {
  const Mapping m(4, 0, {.tp = 2, .dp = 2, .ep = 4}, kTiny);
  const Expect expect[4] = {
      {0, 0, 0, 0, 0, {0, 4}, {0, 8}, {0, 2}, {0, 2}, {0, 2048}},
      {0, 0, 1, 0, 1, {0, 4}, {8, 16}, {2, 4}, {2, 4}, {2048, 4096}},
      {1, 0, 0, 0, 2, {0, 4}, {0, 8}, {0, 2}, {4, 6}, {0, 2048}},
      {1, 0, 1, 0, 3, {0, 4}, {8, 16}, {2, 4}, {6, 8}, {2048, 4096}},
  };
  for (int r = 0; r < 4; ++r) check_rank(m.for_rank(r), expect[r]);
  EXPECT_EQ(groups_of(m, [](auto g) { return g.tp; }), (Groups{{0, 1}, {2, 3}}));
  EXPECT_EQ(groups_of(m, [](auto g) { return g.dp; }), (Groups{{0, 2}, {1, 3}}));
  EXPECT_EQ(groups_of(m, [](auto g) { return g.ep; }), (Groups{{0, 1, 2, 3}}));
}

TEST(Mapping, Dp2Ep2Pp2World4) {
  // rank = dp * 2 + pp; each stage's EP group is its two DP replicas.
  const Mapping m(4, 0, {.dp = 2, .ep = 2, .pp = 2}, kTiny);
  const Expect expect[4] = {
      {0, 0, 0, 0, 0, {0, 2}, {0, 16}, {0, 4}, {0, 4}, {0, 4096}},
      {0, 1, 0, 0, 0, {2, 4}, {0, 16}, {0, 4}, {0, 4}, {0, 4096}},
      {1, 0, 0, 0, 1, {0, 2}, {0, 16}, {0, 4}, {4, 8}, {0, 4096}},
      {1, 1, 0, 0, 1, {2, 4}, {0, 16}, {0, 4}, {4, 8}, {0, 4096}},
  };
  for (int r = 0; r < 4; ++r) check_rank(m.for_rank(r), expect[r]);
  EXPECT_EQ(groups_of(m, [](auto g) { return g.ep; }), (Groups{{0, 2}, {1, 3}}));
  EXPECT_EQ(groups_of(m, [](auto g) { return g.pp; }), (Groups{{0, 1}, {2, 3}}));
}

TEST(Mapping, EpSmallerThanStageReplicatesExperts) {
  // tp2 × dp2 with ep2: two EP groups per stage, each equal to a TP group.
  const Mapping m(4, 0, {.tp = 2, .dp = 2, .ep = 2}, kTiny);
  EXPECT_EQ(groups_of(m, [](auto g) { return g.ep; }), (Groups{{0, 1}, {2, 3}}));
  EXPECT_EQ(m.for_rank(2).experts(), (Range{0, 4}));
  EXPECT_EQ(m.for_rank(3).experts(), (Range{4, 8}));
  EXPECT_EQ(m.for_rank(3).ep_group(), 1);
}

TEST(Mapping, UnevenLayerAndVocabSplits) {
  // 5 layers over 2 stages: the first stage takes the extra one.
  const Mapping m(2, 1, {.pp = 2}, ModelDims{5, 4, 2, 2, 10});
  EXPECT_EQ(m.for_rank(0).layers(), (Range{0, 3}));
  EXPECT_EQ(m.layers(), (Range{3, 5}));
  EXPECT_EQ(balanced_split(10, 4, 0), (Range{0, 3}));
  EXPECT_EQ(balanced_split(10, 4, 1), (Range{3, 6}));
  EXPECT_EQ(balanced_split(10, 4, 3), (Range{8, 10}));
}

TEST(Mapping, WeightSelectionFollowsTheMapping) {
  const Mapping m(8, 5, {.tp = 2, .dp = 2, .ep = 4, .pp = 2}, k20b);
  const WeightSelection s = m.weight_selection();
  EXPECT_EQ(s.layers, (Range{0, 12}));
  EXPECT_EQ(s.kv_heads, (Range{4, 8}));
  EXPECT_EQ(s.experts, (Range{24, 32}));
  EXPECT_TRUE(s.embedding);
  EXPECT_FALSE(s.final_norm);
}

TEST(Mapping, TableListsEveryRank) {
  const Mapping m(4, 0, {.tp = 2, .dp = 2, .ep = 4}, kTiny);
  const std::string t = m.table();
  EXPECT_NE(t.find("tp=2,dp=2,ep=4,pp=1"), std::string::npos) << t;
  EXPECT_NE(t.find("[6,8)"), std::string::npos) << t;  // rank 3's experts
  int lines = 0;
  for (char c : t) lines += c == '\n';
  EXPECT_EQ(lines, 2 + 4) << t;
}

TEST(Mapping, ProcessGroupsOnAWorldOfOne) {
  auto world = comm::make_local_communicator("world");
  const Mapping one(1, 0, {}, kTiny);
  const comm::ProcessGroups g = make_process_groups(*world, one);
  EXPECT_STREQ(g.tp->backend(), "local");
  EXPECT_EQ(g.ep->name(), "ep");
  // A mapping for another world size is refused before any split.
  const Mapping eight(8, 0, {.tp = 2, .dp = 2, .ep = 4, .pp = 2}, k20b);
  EXPECT_THROW(make_process_groups(*world, eight), Error);
}

void expect_invalid(int world, ParallelConfig p, ModelDims d, const std::string& needle) {
  try {
    Mapping m(world, 0, p, d);
    ADD_FAILURE() << "accepted " << p.to_string() << " on " << world << " ranks";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos)
        << "message: " << e.what() << "\nwanted: " << needle;
  }
}

TEST(Mapping, InvalidLayoutsSayWhy) {
  expect_invalid(8, {.tp = 2, .dp = 2}, k20b,
                 "tp × dp × pp = 2 × 2 × 1 = 4 ranks, but the world has 8");
  expect_invalid(3, {.tp = 3}, k20b, "tp=3 must divide the model's 8 KV heads");
  expect_invalid(8, {.tp = 8}, kTiny, "tp=8 must divide the model's 4 KV heads");
  expect_invalid(4, {.tp = 2, .dp = 2, .ep = 3}, kTiny,
                 "ep=3 must divide the dp × tp = 4 ranks of a stage");
  expect_invalid(4, {.tp = 2, .ep = 4, .pp = 2}, kTiny,
                 "ep=4 must divide the dp × tp = 2 ranks of a stage");
  expect_invalid(8, {.dp = 8, .ep = 8}, ModelDims{4, 16, 4, 12, 100},
                 "ep=8 must divide the model's 12 experts");
  expect_invalid(8, {.pp = 8}, kTiny, "pp=8 stages for a model of 4 layers");
  expect_invalid(0, {.tp = 0}, kTiny, "tp must be >= 1, got 0");
  expect_invalid(2, {.dp = 2, .ep = -1}, kTiny, "ep must be >= 1, got -1");
  EXPECT_THROW(Mapping(2, 2, {.tp = 2}, kTiny), Error);  // rank outside the world
}

}  // namespace
}  // namespace gossamer::worker
