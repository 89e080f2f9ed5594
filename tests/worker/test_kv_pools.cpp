// KV pools split by layer type: sliding-window blocks are handed back as they leave the
// window, both pools grow together or not at all, and a prefix-cache hit needs the window
// blocks its first new query still sees.
#include <gtest/gtest.h>

#include "core/error.h"
#include "worker/kv_pools.h"

namespace gossamer::worker {
namespace {

std::vector<int32_t> iota(int n, int start = 0) {
  std::vector<int32_t> v;
  for (int i = 0; i < n; ++i) v.push_back(start + i);
  return v;
}

KvPoolSizes sizes(int full, int window_blocks, int block_size, int window) {
  KvPoolSizes s;
  s.full_blocks = full;
  s.window_blocks = window_blocks;
  s.block_size = block_size;
  s.window = window;
  return s;
}

TEST(KvPools, FirstVisibleBlock) {
  EXPECT_EQ(first_visible_block(0, 8, 4), 0);
  EXPECT_EQ(first_visible_block(7, 8, 4), 0);   // sees positions 0..7
  EXPECT_EQ(first_visible_block(11, 8, 4), 1);  // sees 4..11
  EXPECT_EQ(first_visible_block(12, 8, 4), 1);  // sees 5..12
  EXPECT_EQ(first_visible_block(100, 0, 4), 0); // no window: everything
}

TEST(KvPools, WindowBlocksSlideOutOneTokenAtATime) {
  KvPools pools(sizes(64, 16, 4, 6), true);
  SequenceKv s;
  const auto tokens = iota(60);
  for (int64_t pos = 0; pos < 60; ++pos) {
    ASSERT_TRUE(pools.reserve(s, pos, pos + 1));
    ASSERT_EQ(s.window.size(), s.full.size());
    const int64_t first = first_visible_block(pos, 6, 4);
    EXPECT_EQ(s.window_begin, first);
    for (int64_t b = 0; b < static_cast<int64_t>(s.window.size()); ++b)
      EXPECT_EQ(s.window[static_cast<size_t>(b)] == kNoBlock, b < first) << "pos " << pos << " block " << b;
    EXPECT_EQ(pools.full().num_used(), static_cast<int>(pos / 4 + 1));
    EXPECT_LE(pools.window().num_used(), 3);  // 6 positions span at most 3 blocks of 4
    pools.commit(s, tokens, pos + 1);
  }
  pools.release(s);
  EXPECT_EQ(pools.full().num_used(), 0);
  EXPECT_EQ(pools.window().num_used(), 0);
  EXPECT_TRUE(s.empty());
}

TEST(KvPools, AChunkLongerThanTheWindowHoldsAllItsBlocksForItsStep) {
  KvPools pools(sizes(64, 16, 4, 6), false);
  SequenceKv s;
  ASSERT_TRUE(pools.reserve(s, 0, 20));  // 5 blocks: every query of the chunk writes its K/V
  EXPECT_EQ(pools.window().num_used(), 5);
  ASSERT_TRUE(pools.reserve(s, 20, 21));  // position 20 sees 15..20: blocks 3..5
  EXPECT_EQ(pools.window().num_used(), 3);
  EXPECT_EQ(s.window_begin, 3);
  EXPECT_EQ(pools.full().num_used(), 6);
}

TEST(KvPools, ReserveIsAllOrNothingAcrossPools) {
  KvPools pools(sizes(64, 3, 4, 6), false);
  SequenceKv s;
  EXPECT_FALSE(pools.reserve(s, 0, 16));  // 4 window blocks needed, 3 exist
  EXPECT_EQ(pools.full().num_used(), 0);
  EXPECT_EQ(pools.window().num_used(), 0);
  EXPECT_TRUE(pools.reserve(s, 0, 12));
  EXPECT_EQ(pools.full().num_used(), 3);
}

TEST(KvPools, ModelWithoutSlidingLayersHasNoWindowTable) {
  KvPools pools(sizes(8, 0, 4, 0), true);
  SequenceKv s;
  ASSERT_TRUE(pools.reserve(s, 0, 9));
  EXPECT_FALSE(pools.has_window());
  EXPECT_EQ(s.full.size(), 3u);
  EXPECT_TRUE(s.window.empty());
}

TEST(KvPools, PrefixHitTakesOnlyTheVisibleWindowBlocks) {
  KvPools pools(sizes(64, 8, 4, 6), true);
  SequenceKv a;
  const auto tokens = iota(20);
  for (int64_t pos = 0; pos < 20; pos += 4) {  // chunks of one block: older blocks slide out
    ASSERT_TRUE(pools.reserve(a, pos, pos + 4));
    pools.commit(a, tokens, pos + 4);
  }
  const auto a_full = a.full;
  const auto a_window = a.window;
  pools.release(a);

  // 23 tokens, the first 20 shared: 5 cached blocks are usable (never the last token's).
  auto b_tokens = iota(23);
  b_tokens[21] = 99;
  SequenceKv b;
  EXPECT_EQ(pools.take_prefix(b_tokens, b), 20);
  EXPECT_EQ(b.full, a_full);
  ASSERT_EQ(b.window.size(), 5u);
  // Position 20 sees 15..20: blocks 3 and 4; blocks 0..2 are not taken.
  EXPECT_EQ(b.window_begin, 3);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b.window[static_cast<size_t>(i)], kNoBlock);
  EXPECT_EQ(b.window[3], a_window[3]);
  EXPECT_EQ(b.window[4], a_window[4]);
  EXPECT_EQ(pools.prefix_hit_blocks(), 5);
  pools.release(b);
  EXPECT_EQ(pools.full().num_used(), 0);
  EXPECT_EQ(pools.window().num_used(), 0);
}

TEST(KvPools, PrefixHitShortensToWhereTheWindowBlocksAreStillCached) {
  KvPools pools(sizes(64, 5, 4, 6), true);
  SequenceKv a;
  const auto tokens = iota(20);
  for (int64_t pos = 0; pos < 20; pos += 4) {
    ASSERT_TRUE(pools.reserve(a, pos, pos + 4));
    pools.commit(a, tokens, pos + 4);
  }
  pools.release(a);  // window blocks of logical 0..2 left the window first: oldest in the LRU
  EXPECT_EQ(pools.window().num_cached(), 5);

  // Another sequence takes 2 window blocks: the free list is empty, so the two least
  // recently released cached blocks (logical 0 and 1) are evicted.
  SequenceKv c;
  ASSERT_TRUE(pools.reserve(c, 0, 8));
  EXPECT_EQ(pools.window().num_cached(), 3);

  // A prompt sharing 13 tokens: 3 full blocks are cached, and position 12 sees 7..12 =
  // logical blocks 1 and 2. Block 1 is gone, so no prefix of 3 blocks is usable; 2 blocks
  // need logical 0 and 1 (gone), 1 block needs logical 0 (gone): nothing is reused.
  auto short_tokens = iota(14);
  short_tokens[13] = 77;
  SequenceKv d;
  EXPECT_EQ(pools.take_prefix(short_tokens, d), 0);
  EXPECT_TRUE(d.empty());
  // The longer prompt still hits all 5 blocks: it needs logical 3 and 4 only.
  auto long_tokens = iota(23);
  SequenceKv e;
  EXPECT_EQ(pools.take_prefix(long_tokens, e), 20);
  EXPECT_EQ(e.window_begin, 3);
}

TEST(KvPools, WindowBlocksNeededBoundsWhatSequencesHold) {
  // Window 128, blocks of 16: a decode sees at most 9 blocks, the bound allows 10 per
  // sequence plus the step's tokens.
  EXPECT_EQ(window_blocks_needed(128, 16, 1, 1), 10 + 1);
  EXPECT_EQ(window_blocks_needed(0, 16, 64, 2048), 0);
  for (int start = 0; start < 200; ++start)
    for (int n : {1, 5, 16, 40}) {
      KvPools pools(sizes(64, 64, 16, 128), false);
      SequenceKv s;
      ASSERT_TRUE(pools.reserve(s, 0, start));
      ASSERT_TRUE(pools.reserve(s, start, start + n));
      EXPECT_LE(pools.window().num_used(), window_blocks_needed(128, 16, 1, n)) << start << " " << n;
    }
}

TEST(KvPools, ResolveSizesFromTheModel) {
  model::ModelConfig c;
  c.num_hidden_layers = 2;
  c.layer_types = {model::LayerType::kSlidingAttention, model::LayerType::kFullAttention};
  c.sliding_window = 128;
  auto s = resolve_kv_pool_sizes(c, 16, 2048, 0, 64, 2048);
  EXPECT_EQ(s.window, 128);
  EXPECT_EQ(s.window_blocks, (64 * 10 + 128) * 5 / 4);
  s = resolve_kv_pool_sizes(c, 16, 100, 0, 64, 2048);
  EXPECT_EQ(s.window_blocks, 100);  // never more than the full pool
  s = resolve_kv_pool_sizes(c, 16, 2048, 77, 64, 2048);
  EXPECT_EQ(s.window_blocks, 77);
  c.layer_types = {model::LayerType::kFullAttention, model::LayerType::kFullAttention};
  s = resolve_kv_pool_sizes(c, 16, 2048, 0, 64, 2048);
  EXPECT_EQ(s.window, 0);
  EXPECT_EQ(s.window_blocks, 0);
}

}  // namespace
}  // namespace gossamer::worker
