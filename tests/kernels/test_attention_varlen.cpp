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
#include "attention_step.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;
using test::rel_err;

constexpr double kVarlenTol = 1e-5;
using test::attention_shape;
using test::first_key;
using test::kNaN;
using test::SeqSpec;
using test::Shape;
using test::Step;

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
  EXPECT_LT(rel_err(out, out_ref), kVarlenTol) << what;
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
// width or cache dtype (f16): clear errors before any memory is touched.
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
  kb.dtype = DType::kF16;  // f32 and bf16 (test_attention_bf16_kv.cpp) are the cache dtypes
  try {
    attention_varlen(exec3(), out.data(), ok.q.data(), kb, ok.batch(), ok.sinks.data(), sh);
    ADD_FAILURE() << "f16 cache accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kUnsupported);
  }
}

}  // namespace
}  // namespace gossamer::kernels
