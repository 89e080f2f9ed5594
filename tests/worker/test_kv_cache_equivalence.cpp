// Prefill-then-decode through the paged KV cache must give the rows of one-pass prefill,
// and chunked prefill must too (the cache is the only thing connecting the steps).
#include <gtest/gtest.h>

#include "core/error.h"
#include "golden_data.h"
#include "worker/engine.h"

namespace gossamer::worker {
namespace {

using gossamer::testing::row_max_abs;
using gossamer::testing::tiny_manifest;
using gossamer::testing::tiny_model_dir;

// Same math, different grouping of rows: only float reassociation may differ.
constexpr double kTol = 2e-5;

std::vector<int32_t> long_tokens(size_t n) {
  auto t = tiny_manifest()["long_sequence"]["tokens"].get<std::vector<int32_t>>();
  t.resize(n);
  return t;
}

TEST(KvCacheEquivalence, DecodeOneByOneMatchesOnePass) {
  EngineOptions o;
  o.threads = 2;
  o.block_size = 4;  // many blocks, so block boundaries are crossed often
  o.max_context = 128;
  Engine engine(tiny_model_dir(), o);
  const int64_t V = engine.config().vocab_size;
  const auto tokens = long_tokens(40);  // > 4 windows of the sliding layers (8)

  std::vector<float> full;
  int64_t seq = engine.open_sequence();
  engine.feed(seq, tokens, true, full);
  engine.close_sequence(seq);

  seq = engine.open_sequence();
  std::vector<float> row;
  const size_t prefix = 5;
  engine.feed(seq, {tokens.begin(), tokens.begin() + prefix}, false, row);
  EXPECT_LE(row_max_abs(row.data(), full.data() + (prefix - 1) * V, V), kTol);
  for (size_t t = prefix; t < tokens.size(); ++t) {
    engine.feed(seq, {tokens[t]}, false, row);
    ASSERT_EQ(row.size(), static_cast<size_t>(V));
    EXPECT_LE(row_max_abs(row.data(), full.data() + t * V, V), kTol) << "position " << t;
    // Full-attention layers hold every block; sliding ones (window 8, blocks of 4) only
    // the blocks the next query can still see.
    const auto& pools = engine.kv_pools(seq);
    EXPECT_EQ(pools.full().num_used(), static_cast<int>((t + 1 + 3) / 4)) << "position " << t;
    EXPECT_LE(pools.window().num_used(), 3) << "position " << t;
  }
  EXPECT_EQ(engine.sequence_length(seq), static_cast<int64_t>(tokens.size()));
}

TEST(KvCacheEquivalence, SlidingWindowPoolIsSizedToTheWindow) {
  EngineOptions o;
  o.threads = 1;
  o.block_size = 4;
  o.max_context = 256;
  o.max_sequences = 2;
  o.prefill_chunk = 16;
  Engine engine(tiny_model_dir(), o);
  const auto& sizes = engine.executor().kv_pool_sizes();
  EXPECT_EQ(sizes.window, 8);
  EXPECT_EQ(sizes.full_blocks, 2 * 64);
  // 2 sequences x (ceil(6 / 4) + 2) blocks + one step of 32 tokens (8 blocks), + 1/4: 20.
  EXPECT_EQ(sizes.window_blocks, 20);
  // Two of the tiny model's four layers slide: the cache is (128 + 20) / (2 * 128) of what
  // one pool for every layer would take.
  const auto& cfg = engine.config();
  const size_t per_block_layer = 2ull * 4 * static_cast<size_t>(cfg.num_key_value_heads) *
                                 static_cast<size_t>(cfg.head_dim) * sizeof(float);
  EXPECT_EQ(engine.executor().kv_cache_bytes(), per_block_layer * (2 * 128 + 2 * 20));
  // A long sequence through it still matches one-pass prefill at its last position.
  const auto tokens = long_tokens(200);
  std::vector<float> chunked, one;
  engine.feed(engine.open_sequence(), tokens, false, chunked);
  EngineOptions big = o;
  big.prefill_chunk = 0;
  Engine reference(tiny_model_dir(), big);
  reference.feed(reference.open_sequence(), tokens, false, one);
  EXPECT_LE(row_max_abs(chunked.data(), one.data(), cfg.vocab_size), kTol);
}

TEST(KvCacheEquivalence, ChunkedPrefillMatchesOnePass) {
  const auto tokens = long_tokens(100);
  EngineOptions o;
  o.threads = 2;
  o.max_context = 128;
  Engine one(tiny_model_dir(), o);
  o.prefill_chunk = 7;  // not a divisor of the window or the block size
  o.block_size = 5;
  Engine chunked(tiny_model_dir(), o);
  const int64_t V = one.config().vocab_size;
  std::vector<float> a, b;
  one.feed(one.open_sequence(), tokens, true, a);
  chunked.feed(chunked.open_sequence(), tokens, true, b);
  ASSERT_EQ(a.size(), b.size());
  for (size_t t = 0; t < tokens.size(); ++t)
    EXPECT_LE(row_max_abs(a.data() + t * V, b.data() + t * V, V), kTol) << "position " << t;
}

TEST(KvCacheEquivalence, ContextLimitIsAnErrorNotACrash) {
  EngineOptions o;
  o.threads = 1;
  o.max_context = 16;
  Engine engine(tiny_model_dir(), o);
  const int64_t seq = engine.open_sequence();
  std::vector<float> logits;
  EXPECT_THROW(engine.feed(seq, long_tokens(17), false, logits), Error);
  engine.feed(seq, long_tokens(16), false, logits);  // still usable
  EXPECT_EQ(engine.sequence_length(seq), 16);
}

}  // namespace
}  // namespace gossamer::worker
