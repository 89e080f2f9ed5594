// MXFP4: decoding against the reference's dequantized golden matrix, and mxfp4_linear
// against the scalar oracle and against a dense linear over the decoded values.
#include <gtest/gtest.h>

#include <cstring>

#include "core/mxfp4.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/mxfp4_tile.h"
#include "kernels/linear.h"
#include "kernels/mxfp4_linear.h"
#include "kernels/ref/mxfp4_linear.h"
#include "test_util.h"

namespace gossamer::kernels {
namespace {
using test::exec3;
using test::rel_err;

constexpr double kMxfp4Tol = 2e-6;  // f32 accumulation vs double; decoded values are exact

// Random codes and scales near 2^0 (e8m0 120..134) so values stay in a sane range.
struct RandomMxfp4 {
  std::vector<uint8_t> blocks, scales;
  RandomMxfp4(int64_t out, int64_t nblk, uint32_t seed) {
    std::mt19937 rng(seed);
    blocks.resize(size_t(out * nblk * 16));
    scales.resize(size_t(out * nblk));
    for (auto& b : blocks) b = uint8_t(rng());
    for (auto& s : scales) s = uint8_t(120 + rng() % 15);
  }
};

TEST(Mxfp4, CodeTableAndScale) {
  uint8_t blk[16] = {0x21, 0xf8};  // elements: 1, 2, 8(-0), 15(-6)
  EXPECT_EQ(fp4_code(blk, 0), 1);
  EXPECT_EQ(fp4_code(blk, 1), 2);
  EXPECT_EQ(fp4_code(blk, 2), 8);
  EXPECT_EQ(fp4_code(blk, 3), 15);
  EXPECT_EQ(kFp4Values[15], -6.f);
  EXPECT_TRUE(std::signbit(kFp4Values[8]));
  EXPECT_EQ(e8m0_to_f32(127), 1.f);
  EXPECT_EQ(e8m0_to_f32(130), 8.f);
}

struct Case {
  int64_t n, out, in;
};
void PrintTo(const Case& c, std::ostream* os) { *os << "n=" << c.n << " out=" << c.out << " in=" << c.in; }

class Mxfp4LinearTest : public ::testing::TestWithParam<Case> {};

TEST_P(Mxfp4LinearTest, MatchesReferenceAndDense) {
  const auto c = GetParam();
  RandomMxfp4 m(c.out, c.in / 32, 11);
  Mxfp4Weight w{m.blocks.data(), m.scales.data(), c.out, c.in, 0};
  auto x = test::random_vec(size_t(c.n * c.in), 12);
  auto bias = test::random_vec(size_t(c.out), 13);
  std::vector<float> y(size_t(c.n * c.out)), yr(y.size()), yd(y.size());
  mxfp4_linear(exec3(), y.data(), x.data(), c.n, w, bias.data());
  ref::mxfp4_linear(yr.data(), x.data(), c.n, w, bias.data());
  EXPECT_LT(rel_err(y, yr), kMxfp4Tol);

  std::vector<float> dense(size_t(c.out * c.in));
  ref::mxfp4_dequantize(dense.data(), w);
  linear(exec3(), yd.data(), x.data(), c.n, DenseWeight{dense.data(), DType::kF32, c.out, c.in, 0},
         bias.data());
  EXPECT_LT(rel_err(y, yd), kMxfp4Tol);
}

INSTANTIATE_TEST_SUITE_P(Shapes, Mxfp4LinearTest,
                         ::testing::Values(Case{1, 45, 64}, Case{3, 45, 64}, Case{17, 45, 96},
                                           Case{1, 7, 32}, Case{5, 130, 320}, Case{8, 33, 2880},
                                           Case{5, 301, 2880}));  // several tiles per thread

// A block-granular column slice through blocks_stride (tensor-parallel W2).
// The exact GEMM's bf16 tile on AVX-512 (kernels/cpu/avx512/mxfp4_tile.cpp): every code
// under every scale byte, e = 0 (2^-127, an f32 subnormal) and 255 (inf) included, bit for
// bit the top half of the f32 value kFp4Values[code] * 2^(e - 127), with the row stride
// and a row range that skips row 0.
TEST(Mxfp4, AvxTileDecodeIsTheTopHalfOfEveryValue) {
  if (!cpu::isa_supported(cpu::Isa::kAvx512, cpu::cpu_features())) GTEST_SKIP() << "no AVX-512";
  constexpr int64_t kRows = 257, kStride = 3, kNb = 2;  // row r: scale r - 1 (row 0 skipped)
  std::vector<uint8_t> blocks(size_t(kRows * kStride * 16)), scales(size_t(kRows * kStride), 0xAA);
  for (int64_t r = 0; r < kRows; ++r)
    for (int64_t g = 0; g < kNb; ++g) {
      scales[size_t(r * kStride + g)] = uint8_t(r - 1 + 60 * g);
      for (int j = 0; j < 16; ++j)  // both blocks hold all 16 codes in both nibbles
        blocks[size_t((r * kStride + g) * 16 + j)] = uint8_t(((j + 5 * g) % 16) | (((15 - j) % 16) << 4));
    }
  std::vector<float> table(256);
  for (int s = 0; s < 256; ++s) table[size_t(s)] = e8m0_to_f32(uint8_t(s));
  std::vector<uint16_t> tile(size_t((kRows - 1) * kNb * 32), 0x1234);
  cpu::decode_tile_bf16_avx512(blocks.data(), scales.data(), kStride, kNb, 1, kRows, tile.data(), table.data());
  int checked = 0;
  for (int64_t r = 1; r < kRows; ++r)
    for (int64_t g = 0; g < kNb; ++g)
      for (int k = 0; k < 32; ++k) {
        const uint8_t* blk = blocks.data() + (r * kStride + g) * 16;
        const float v = kFp4Values[fp4_code(blk, k)] * table[scales[size_t(r * kStride + g)]];
        uint32_t bits;
        std::memcpy(&bits, &v, 4);
        ASSERT_EQ(tile[size_t(((r - 1) * kNb + g) * 32 + k)], uint16_t(bits >> 16))
            << "row " << r << " block " << g << " element " << k;
        ++checked;
      }
  EXPECT_EQ(checked, (kRows - 1) * kNb * 32);
}

TEST(Mxfp4Linear, BlocksStrideSlice) {
  const int64_t out = 21, full_blocks = 9, off_blocks = 3, in = 4 * 32, n = 3;
  RandomMxfp4 m(out, full_blocks, 21);
  Mxfp4Weight w{m.blocks.data() + off_blocks * 16, m.scales.data() + off_blocks, out, in, full_blocks};
  auto x = test::random_vec(size_t(n * in), 22);
  std::vector<float> y(size_t(n * out)), yr(y.size());
  mxfp4_linear(exec3(), y.data(), x.data(), n, w, nullptr);
  ref::mxfp4_linear(yr.data(), x.data(), n, w, nullptr);
  EXPECT_LT(rel_err(y, yr), kMxfp4Tol);
}

TEST(Mxfp4Linear, RejectsInNotMultipleOf32) {
  uint8_t b[16] = {}, s[1] = {127};
  float x[40] = {}, y[1];
  EXPECT_THROW(mxfp4_linear(exec3(), y, x, 1, Mxfp4Weight{b, s, 1, 40, 0}, nullptr), Error);
}

// tests/data/tiny layer 0, expert 0 of mlp1 (gate_up) [768, 256] decoded by OpenAI's
// reference: our decode must agree bit for bit.
class Mxfp4Golden : public ::testing::Test {
 protected:
  void SetUp() override {
    st_ = std::make_unique<test::Safetensors>(test::data_path("tiny/model/original/model.safetensors"));
    golden_ = test::read_bytes(test::data_path("tiny/golden/mxfp4.block0.mlp1_weight.expert0.f32"));
    ASSERT_TRUE(st_->has("block.0.mlp.mlp1_weight.blocks"));
    ASSERT_EQ(golden_.size(), size_t(768 * 256 * 4));
    auto bs = st_->shape("block.0.mlp.mlp1_weight.blocks");
    ASSERT_EQ(bs, (std::vector<int64_t>{8, 768, 8, 16}));
    ASSERT_EQ(st_->shape("block.0.mlp.mlp1_weight.scales"), (std::vector<int64_t>{8, 768, 8}));
    // Expert 0 is the first [768, 8, 16] / [768, 8] slab.
    w_ = Mxfp4Weight{st_->data("block.0.mlp.mlp1_weight.blocks"),
                     st_->data("block.0.mlp.mlp1_weight.scales"), 768, 256, 0};
    expected_.resize(768 * 256);
    std::memcpy(expected_.data(), golden_.data(), golden_.size());
  }
  std::unique_ptr<test::Safetensors> st_;
  std::vector<uint8_t> golden_;
  std::vector<float> expected_;
  Mxfp4Weight w_;
};

TEST_F(Mxfp4Golden, DecodeEqualsReferenceExactly) {
  std::vector<float> decoded(768 * 256);
  ref::mxfp4_dequantize(decoded.data(), w_);
  int64_t mismatches = 0;
  for (size_t i = 0; i < decoded.size(); ++i) mismatches += decoded[i] != expected_[i];
  EXPECT_EQ(mismatches, 0);
  double nonzero = 0;
  for (float v : expected_) nonzero += v != 0;
  EXPECT_GT(nonzero, 768 * 256 / 2);  // a real matrix, not zeros
}

TEST_F(Mxfp4Golden, LinearMatchesDenseOverGolden) {
  for (int64_t n : {1, 3, 17}) {
    auto x = test::random_vec(size_t(n * 256), uint32_t(30 + n));
    std::vector<float> y(size_t(n * 768)), yd(y.size());
    mxfp4_linear(exec3(), y.data(), x.data(), n, w_, nullptr);
    linear(exec3(), yd.data(), x.data(), n, DenseWeight{expected_.data(), DType::kF32, 768, 256, 0},
           nullptr);
    EXPECT_LT(rel_err(y, yd), kMxfp4Tol) << "n=" << n;
  }
}

}  // namespace
}  // namespace gossamer::kernels
