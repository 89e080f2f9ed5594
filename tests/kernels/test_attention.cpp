// Attention with sinks over a paged KV cache: CPU vs the double-precision oracle across
// GQA ratios, windows shorter and longer than the sequence, shuffled block tables,
// chunked prefill and decode after prefill.
#include <gtest/gtest.h>

#include <algorithm>

#include "kernels/attention.h"
#include "kernels/ref/attention.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;
using test::rel_err;

constexpr double kAttentionTol = 2e-6;  // f32 softmax and sums vs double

struct AttnCase {
  int n_heads, n_kv_heads, head_dim, window, block_size;
};

void PrintTo(const AttnCase& c, std::ostream* os) {
  *os << "heads=" << c.n_heads << " kv=" << c.n_kv_heads << " d=" << c.head_dim
      << " window=" << c.window << " block=" << c.block_size;
}

// A cache of more blocks than the sequence needs, mapped through a shuffled table so
// logical and physical block indices never coincide by accident.
struct PagedCache {
  std::vector<float> k, v;
  std::vector<int32_t> table;
  KvCacheView view;
  PagedCache(int64_t max_len, const AttnCase& c, uint32_t seed) {
    const int64_t logical = (max_len + c.block_size - 1) / c.block_size, physical = logical + 3;
    const size_t elems = size_t(physical * c.block_size * c.n_kv_heads * c.head_dim);
    k.assign(elems, 1e9f);  // garbage that must never be read
    v.assign(elems, 1e9f);
    std::vector<int32_t> all(static_cast<size_t>(physical));
    for (int32_t i = 0; i < int32_t(physical); ++i) all[size_t(i)] = i;
    std::mt19937 rng(seed);
    std::shuffle(all.begin(), all.end(), rng);
    table.assign(all.begin(), all.begin() + logical);
    view = KvCacheView{k.data(), v.data(), c.block_size, table.data()};
  }
};

AttentionShape shape_of(const AttnCase& c) {
  return AttentionShape{c.n_heads, c.n_kv_heads, c.head_dim, c.window,
                        1.0f / std::sqrt(float(c.head_dim))};
}

class AttentionTest : public ::testing::TestWithParam<AttnCase> {
 protected:
  // Writes K/V for positions [p0, p0 + nt) and checks attention of those queries.
  void step(PagedCache& cache, int64_t p0, int64_t nt, uint32_t seed) {
    const auto c = GetParam();
    const auto sh = shape_of(c);
    const size_t kv_elems = size_t(nt * c.n_kv_heads * c.head_dim);
    auto k = test::random_vec(kv_elems, seed, -2.f, 2.f);
    auto v = test::random_vec(kv_elems, seed + 1);
    auto q = test::random_vec(size_t(nt * c.n_heads * c.head_dim), seed + 2, -2.f, 2.f);
    auto sinks = test::random_vec(size_t(c.n_heads), seed + 3, -1.f, 3.f);
    std::vector<int32_t> pos(static_cast<size_t>(nt));
    for (int64_t i = 0; i < nt; ++i) pos[size_t(i)] = int32_t(p0 + i);

    // The CPU write must equal the oracle's write, element for element.
    auto k_copy = cache.k, v_copy = cache.v;
    KvCacheView ref_view{k_copy.data(), v_copy.data(), cache.view.block_size, cache.table.data()};
    kv_cache_write(exec3(), cache.view, k.data(), v.data(), pos.data(), nt, sh);
    ref::kv_cache_write(ref_view, k.data(), v.data(), pos.data(), nt, sh);
    ASSERT_EQ(cache.k, k_copy);
    ASSERT_EQ(cache.v, v_copy);
    // Position p0's row, head 0, sits in block table[p0 / bs] at row p0 % bs.
    const int64_t row = int64_t(cache.table[size_t(p0 / c.block_size)]) * c.block_size + p0 % c.block_size;
    ASSERT_EQ(cache.k[size_t(row * c.n_kv_heads * c.head_dim)], k[0]);

    std::vector<float> out(q.size()), out_ref(q.size());
    attention_sink(exec3(), out.data(), q.data(), pos.data(), nt, cache.view, sinks.data(), sh);
    ref::attention_sink(out_ref.data(), q.data(), pos.data(), nt, cache.view, sinks.data(), sh);
    EXPECT_LT(rel_err(out, out_ref), kAttentionTol) << "p0=" << p0 << " nt=" << nt;
  }
};

TEST_P(AttentionTest, PrefillThenChunkThenDecode) {
  PagedCache cache(64, GetParam(), 99);
  step(cache, 0, 17, 100);   // prefill
  step(cache, 17, 3, 200);   // a chunk whose queries start mid-sequence
  step(cache, 20, 1, 300);   // decode
  step(cache, 21, 1, 400);   // decode again
  step(cache, 22, 25, 500);  // long chunk, crossing several blocks
}

TEST_P(AttentionTest, SingleTokenFromPositionZero) {
  PagedCache cache(4, GetParam(), 7);
  step(cache, 0, 1, 600);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(AttnCase{4, 4, 64, 0, 16},    // MHA, full causal
                      AttnCase{8, 2, 64, 0, 4},     // GQA 4
                      AttnCase{16, 2, 64, 5, 4},    // GQA 8, window shorter than the sequence
                      AttnCase{8, 1, 64, 128, 16},  // GQA 8, window longer than the sequence
                      AttnCase{4, 1, 20, 3, 5},     // GQA 4, head_dim not a multiple of 8
                      AttnCase{3, 3, 36, 1, 3}));   // window 1: only the token itself

// Long-context decode with one KV head per rank (tp = 8): fewer (token, KV head) items
// than threads, so the CPU kernel splits the keys and merges partial softmaxes. A query
// at position 3 rides along: its 4 keys split into more pieces than keys (empty pieces).
TEST(Attention, SplitKeysDecodeMatchesReference) {
  for (int window : {0, 700}) {
    AttnCase c{8, 1, 64, window, 16};
    const auto sh = shape_of(c);
    const int64_t ctx = 1500;
    PagedCache cache(ctx, c, 5);
    auto k = test::random_vec(size_t(ctx * 64), 50, -2.f, 2.f), v = test::random_vec(size_t(ctx * 64), 51);
    std::vector<int32_t> pos(static_cast<size_t>(ctx));
    for (int32_t i = 0; i < int32_t(ctx); ++i) pos[size_t(i)] = i;
    kv_cache_write(exec3(), cache.view, k.data(), v.data(), pos.data(), ctx, sh);
    auto q = test::random_vec(2 * 8 * 64, 52, -2.f, 2.f);
    auto sinks = test::random_vec(8, 53, -1.f, 3.f);
    std::vector<int32_t> qpos = {1499, 3};
    for (int64_t nt : {1, 2}) {
      std::vector<float> out(size_t(nt * 8 * 64)), out_ref(out.size());
      attention_sink(exec3(), out.data(), q.data(), qpos.data(), nt, cache.view, sinks.data(), sh);
      ref::attention_sink(out_ref.data(), q.data(), qpos.data(), nt, cache.view, sinks.data(), sh);
      EXPECT_LT(rel_err(out, out_ref), kAttentionTol) << "window=" << window << " nt=" << nt;
    }
  }
}

// Hand-computed: one key, so o = v * e^z / (e^S + e^z) — the sink is unscaled and has
// no value row, and the weights do not sum to one.
TEST(Attention, SinkJoinsDenominatorUnscaled) {
  AttnCase c{1, 1, 8, 0, 4};
  auto sh = shape_of(c);
  PagedCache cache(4, c, 1);
  std::vector<float> k(8, 0.f), v(8), q(8, 0.f);
  k[0] = 2.f;
  q[0] = 3.f;  // z = 6 / sqrt(8)
  for (int i = 0; i < 8; ++i) v[size_t(i)] = float(i + 1);
  int32_t pos = 0;
  float sink = 1.5f;
  kv_cache_write(exec3(), cache.view, k.data(), v.data(), &pos, 1, sh);
  std::vector<float> out(8);
  attention_sink(exec3(), out.data(), q.data(), &pos, 1, cache.view, &sink, sh);
  const double z = 6.0 / std::sqrt(8.0), w = std::exp(z) / (std::exp(1.5) + std::exp(z));
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(out[size_t(i)], w * (i + 1), 1e-5);
}

TEST(Attention, RejectsBadGqaRatio) {
  AttnCase c{6, 4, 8, 0, 4};
  PagedCache cache(4, c, 1);
  std::vector<float> buf(64);
  int32_t pos = 0;
  EXPECT_THROW(attention_sink(exec3(), buf.data(), buf.data(), &pos, 1, cache.view, buf.data(),
                              shape_of(c)),
               Error);
}

}  // namespace
}  // namespace gossamer::kernels
