// Batched (variable-length) paged attention: the CPU kernel against the double-precision
// oracle over whole steps — single and many decodes, a 2k-token prefill, prefill chunks
// and decodes mixed, chunks after a cached prefix, sliding windows shorter and longer
// than the chunk with -1 table entries before the window, GQA 1/2/8, head_dim 64 and 20,
// large and small sinks. Every cache row a kernel must not read holds NaN, so a read of a
// future position, of a row before the window or of a block outside the tables shows up
// as NaN in the output. Tolerance: f32 against double, ||out - ref|| / ||ref|| < 1e-5.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "kernels/attention.h"
#include "kernels/ref/attention.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;
using test::rel_err;

constexpr double kTol = 1e-5;
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

struct Shape {
  int n_heads, n_kv_heads, head_dim, window, block_size;
};

void PrintTo(const Shape& c, std::ostream* os) {
  *os << "heads=" << c.n_heads << " kv=" << c.n_kv_heads << " d=" << c.head_dim << " window=" << c.window
      << " block=" << c.block_size;
}

AttentionShape attention_shape(const Shape& c) {
  return AttentionShape{c.n_heads, c.n_kv_heads, c.head_dim, c.window, 1.0f / std::sqrt(float(c.head_dim))};
}

// One sequence of the step: `cached` positions already in the cache, `fed` new tokens.
struct SeqSpec {
  int cached, fed;
};

int64_t first_key(int64_t pos, int window) { return window > 0 ? std::max<int64_t>(0, pos - window + 1) : 0; }

// A step over a shared paged cache. Each sequence's table covers cached + fed positions;
// blocks before the first one its first new query can see are -1 and own no storage
// (as in a sliding-window table). Physical blocks are shuffled. The cache holds random
// values at the positions a query may read, NaN everywhere else.
struct Step {
  Shape shape;
  std::vector<int32_t> positions, seq_offsets{0}, tables, table_offsets{0};
  std::vector<float> k_cache, v_cache, q, k_new, v_new, sinks;
  int64_t num_blocks = 0;

  Step(const Shape& c, const std::vector<SeqSpec>& seqs, uint32_t seed, float sink_lo = -1.f, float sink_hi = 3.f)
      : shape(c) {
    const int bs = c.block_size;
    int64_t visible_blocks = 0;
    for (const auto& s : seqs) {
      const int64_t blocks = (s.cached + s.fed + bs - 1) / bs;
      visible_blocks += blocks - first_key(s.cached, c.window) / bs;
    }
    num_blocks = visible_blocks + 4;  // spare blocks no table names: NaN
    std::vector<int32_t> free_blocks(static_cast<size_t>(num_blocks));
    for (int32_t i = 0; i < int32_t(num_blocks); ++i) free_blocks[size_t(i)] = i;
    std::mt19937 rng(seed);
    std::shuffle(free_blocks.begin(), free_blocks.end(), rng);

    const int64_t row = int64_t(c.n_kv_heads) * c.head_dim;
    k_cache.assign(size_t(num_blocks * bs * row), kNaN);
    v_cache = k_cache;
    auto fill_k = test::random_vec(k_cache.size(), seed + 1, -2.f, 2.f);
    auto fill_v = test::random_vec(v_cache.size(), seed + 2);
    size_t next = 0;
    for (const auto& s : seqs) {
      const int64_t blocks = (s.cached + s.fed + bs - 1) / bs, first_block = first_key(s.cached, c.window) / bs;
      const size_t base = tables.size();
      for (int64_t b = 0; b < blocks; ++b) tables.push_back(b < first_block ? -1 : free_blocks[next++]);
      table_offsets.push_back(int32_t(tables.size()));
      // Readable history: [first key of the first new token, cached).
      for (int64_t p = first_key(s.cached, c.window); p < s.cached; ++p) {
        const int64_t at = (int64_t(tables[base + size_t(p / bs)]) * bs + p % bs) * row;
        std::copy_n(fill_k.begin() + at, row, k_cache.begin() + at);
        std::copy_n(fill_v.begin() + at, row, v_cache.begin() + at);
      }
      for (int p = s.cached; p < s.cached + s.fed; ++p) positions.push_back(p);
      seq_offsets.push_back(int32_t(positions.size()));
    }
    const int64_t n = int64_t(positions.size());
    q = test::random_vec(size_t(n * c.n_heads * c.head_dim), seed + 3, -2.f, 2.f);
    k_new = test::random_vec(size_t(n * row), seed + 4, -2.f, 2.f);
    v_new = test::random_vec(size_t(n * row), seed + 5);
    sinks = test::random_vec(size_t(c.n_heads), seed + 6, sink_lo, sink_hi);
  }

  VarlenBatch batch() const {
    return VarlenBatch{int64_t(positions.size()), int64_t(seq_offsets.size()) - 1, positions.data(),
                       seq_offsets.data(), tables.data(), table_offsets.data()};
  }
  PagedKv kv(std::vector<float>& k, std::vector<float>& v) const {
    return PagedKv{k.data(), v.data(), DType::kF32, num_blocks, shape.block_size};
  }
};

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// Writes the step's K/V (CPU batched, oracle, CPU per sequence: all bit-identical), then
// checks the CPU attention against the oracle.
void check_step(const Step& st, const std::string& what) {
  const auto sh = attention_shape(st.shape);
  const auto batch = st.batch();
  auto k_cpu = st.k_cache, v_cpu = st.v_cache, k_ref = st.k_cache, v_ref = st.v_cache;
  kv_cache_write_varlen(exec3(), st.kv(k_cpu, v_cpu), st.k_new.data(), st.v_new.data(), batch, sh);
  ref::kv_cache_write_varlen(st.kv(k_ref, v_ref), st.k_new.data(), st.v_new.data(), batch, sh);
  ASSERT_TRUE(same_bits(k_cpu, k_ref) && same_bits(v_cpu, v_ref)) << what;
  auto k_seq = st.k_cache, v_seq = st.v_cache;
  const int64_t row = int64_t(st.shape.n_kv_heads) * st.shape.head_dim;
  for (int64_t s = 0; s < batch.n_seqs; ++s) {
    const int64_t t0 = st.seq_offsets[size_t(s)], n = st.seq_offsets[size_t(s) + 1] - t0;
    KvCacheView view{k_seq.data(), v_seq.data(), st.shape.block_size, st.tables.data() + st.table_offsets[size_t(s)]};
    kv_cache_write(exec3(), view, st.k_new.data() + t0 * row, st.v_new.data() + t0 * row, st.positions.data() + t0,
                   n, sh);
  }
  ASSERT_TRUE(same_bits(k_cpu, k_seq) && same_bits(v_cpu, v_seq)) << what << ": batched write != per-sequence";

  std::vector<float> out(st.q.size(), -7.f), out_ref(st.q.size());
  attention_varlen(exec3(), out.data(), st.q.data(), st.kv(k_cpu, v_cpu), batch, st.sinks.data(), sh);
  ref::attention_varlen(out_ref.data(), st.q.data(), st.kv(k_ref, v_ref), batch, st.sinks.data(), sh);
  for (float x : out) ASSERT_TRUE(std::isfinite(x)) << what << ": the kernel read a row it must not";
  EXPECT_LT(rel_err(out, out_ref), kTol) << what;
}

class AttentionVarlenTest : public ::testing::TestWithParam<Shape> {};

TEST_P(AttentionVarlenTest, SingleDecode) { check_step(Step(GetParam(), {{37, 1}}, 1), "one decode"); }

TEST_P(AttentionVarlenTest, DecodesOfDifferentLengths) {
  std::vector<SeqSpec> seqs;
  std::mt19937 rng(3);
  for (int i = 0; i < 16; ++i) seqs.push_back({int(rng() % 300), 1});
  seqs.push_back({0, 1});  // the first token of a sequence: only itself to attend to
  check_step(Step(GetParam(), seqs, 2), "16 decodes");
}

TEST_P(AttentionVarlenTest, PrefillChunksAndDecodesMixed) {
  check_step(Step(GetParam(), {{0, 100}, {50, 37}, {200, 1}, {3, 1}, {0, 0}, {17, 64}, {0, 1}}, 4),
             "mixed (an empty sequence included)");
}

TEST_P(AttentionVarlenTest, ChunkAfterCachedPrefix) {
  check_step(Step(GetParam(), {{300, 70}}, 5), "chunk at 300");
  check_step(Step(GetParam(), {{500, 20}, {129, 3}}, 6), "short chunks deep in the sequence");
}

// Random chunk starts and lengths: query tiles and key tiles meet at every alignment, so
// each masking case (diagonal inside a tile, window start inside a tile) gets exercised.
TEST_P(AttentionVarlenTest, RandomSteps) {
  std::mt19937 rng(21);
  for (int step = 0; step < 6; ++step) {
    std::vector<SeqSpec> seqs;
    for (int i = 0; i < 5; ++i) seqs.push_back({int(rng() % 200), 1 + int(rng() % 40)});
    check_step(Step(GetParam(), seqs, 100 + uint32_t(step)), "random step " + std::to_string(step));
  }
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionVarlenTest,
    ::testing::Values(Shape{4, 4, 64, 0, 16},     // GQA 1, full causal
                      Shape{8, 4, 64, 0, 16},     // GQA 2
                      Shape{16, 2, 64, 0, 16},    // GQA 8 (gpt-oss: 64 heads over 8 KV heads)
                      Shape{16, 2, 64, 32, 16},   // window shorter than the chunks
                      Shape{16, 2, 64, 128, 16},  // gpt-oss's window: longer than some chunks
                      Shape{8, 1, 64, 24, 5},     // window not a multiple of the block size
                      Shape{8, 2, 20, 0, 4},      // head_dim not a multiple of 8
                      Shape{6, 3, 36, 17, 3},     // ragged head_dim with a window
                      Shape{3, 3, 8, 1, 16}));    // window 1: only the token itself

TEST(AttentionVarlen, LongPrefill) {
  check_step(Step(Shape{8, 1, 64, 0, 16}, {{0, 2048}}, 7), "2048-token prefill");
  check_step(Step(Shape{8, 1, 64, 128, 16}, {{0, 1100}}, 8), "1100-token prefill, window 128");
}

TEST(AttentionVarlen, LargeAndSmallSinks) {
  // Sinks far above every logit (the output shrinks towards 0) and far below (no effect).
  check_step(Step(Shape{16, 2, 64, 0, 16}, {{40, 8}, {90, 1}}, 9, 12.f, 20.f), "large sinks");
  check_step(Step(Shape{16, 2, 64, 0, 16}, {{40, 8}, {90, 1}}, 10, -30.f, -20.f), "small sinks");
}

// One long decode with one KV head per rank (tp = 8): too few work items for the pool,
// so the kernel splits the keys and merges the partial softmaxes.
TEST(AttentionVarlen, SplitKeysDecode) {
  check_step(Step(Shape{8, 1, 64, 0, 16}, {{1499, 1}}, 11), "split decode");
  check_step(Step(Shape{8, 1, 64, 700, 16}, {{1499, 1}, {3, 1}}, 12), "split decode, window");
}

// Hand-computed: one key, so o = v e^z / (e^S + e^z) — the sink is unscaled and has no
// value row.
TEST(AttentionVarlen, SinkJoinsDenominatorUnscaled) {
  Step st(Shape{1, 1, 8, 0, 4}, {{0, 1}}, 13);
  std::fill(st.k_new.begin(), st.k_new.end(), 0.f);
  std::fill(st.q.begin(), st.q.end(), 0.f);
  st.k_new[0] = 2.f;
  st.q[0] = 3.f;  // z = 6 / sqrt(8)
  for (int i = 0; i < 8; ++i) st.v_new[size_t(i)] = float(i + 1);
  st.sinks[0] = 1.5f;
  const auto sh = attention_shape(st.shape);
  kv_cache_write_varlen(exec3(), st.kv(st.k_cache, st.v_cache), st.k_new.data(), st.v_new.data(), st.batch(), sh);
  std::vector<float> out(8);
  attention_varlen(exec3(), out.data(), st.q.data(), st.kv(st.k_cache, st.v_cache), st.batch(), st.sinks.data(), sh);
  const double z = 6.0 / std::sqrt(8.0), w = std::exp(z) / (std::exp(1.5) + std::exp(z));
  for (int i = 0; i < 8; ++i) EXPECT_NEAR(out[size_t(i)], w * (i + 1), 1e-5);
}

// A query that could see a -1 block, a position beyond its table, an unsupported head
// width or cache dtype: clear errors before any memory is touched.
TEST(AttentionVarlen, RefusesWhatItCannotDo) {
  const Shape c{4, 2, 64, 32, 16};
  const auto sh = attention_shape(c);
  Step st(c, {{100, 1}}, 14);
  std::vector<float> out(st.q.size());
  auto k = st.k_cache, v = st.v_cache;
  // Position 100 sees 69..100; block 4 (64..79) is -1 once the window starts in it.
  st.tables[4] = -1;
  EXPECT_THROW(attention_varlen(exec3(), out.data(), st.q.data(), st.kv(k, v), st.batch(), st.sinks.data(), sh),
               Error);
  EXPECT_THROW(ref::attention_varlen(out.data(), st.q.data(), st.kv(k, v), st.batch(), st.sinks.data(), sh), Error);

  Step beyond(c, {{100, 1}}, 15);
  beyond.positions[0] = 200;  // past the 7 blocks its table has
  EXPECT_THROW(kv_cache_write_varlen(exec3(), beyond.kv(beyond.k_cache, beyond.v_cache), beyond.k_new.data(),
                                     beyond.v_new.data(),
                                     beyond.batch(), sh),
               Error);

  Step wide(Shape{2, 1, 320, 0, 16}, {{3, 1}}, 16);
  auto kw = wide.k_cache, vw = wide.v_cache;
  std::vector<float> out_wide(wide.q.size());
  try {
    attention_varlen(exec3(), out_wide.data(), wide.q.data(), wide.kv(kw, vw), wide.batch(), wide.sinks.data(),
                     attention_shape(wide.shape));
    ADD_FAILURE() << "head_dim 320 accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
  }

  Step ok(c, {{10, 1}}, 17);
  auto kb = ok.kv(k, v);
  kb.dtype = DType::kBF16;
  try {
    attention_varlen(exec3(), out.data(), ok.q.data(), kb, ok.batch(), ok.sinks.data(), sh);
    ADD_FAILURE() << "bf16 cache accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
  }
}

}  // namespace
}  // namespace gossamer::kernels
