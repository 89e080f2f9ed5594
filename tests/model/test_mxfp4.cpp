// MXFP4 decode against the reference decoder's output, and quantize -> decode.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "core/mxfp4.h"
#include "model/checkpoint.h"
#include "model/mxfp4.h"
#include "tests/common/checkpoint_fixtures.h"

namespace gossamer::model {
namespace {

using namespace gossamer::testing;

// Layer 0, expert 0 of gate_up ([2I, H] = [768, 256]) equals the golden f32 dump bit for
// bit, read from either layout.
TEST(Mxfp4, DecodeMatchesGoldenExpert) {
  auto golden = read_f32_file(golden_dir() / "mxfp4.block0.mlp1_weight.expert0.f32");
  ASSERT_EQ(golden.size(), 768u * 256);
  for (auto [layout, blocks, scales] :
       {std::tuple{CheckpointLayout::kHF, "model.layers.0.mlp.experts.gate_up_proj_blocks",
                   "model.layers.0.mlp.experts.gate_up_proj_scales"},
        std::tuple{CheckpointLayout::kOriginal, "block.0.mlp.mlp1_weight.blocks", "block.0.mlp.mlp1_weight.scales"}}) {
    auto ck = Checkpoint::open(tiny_dir(), layout);
    std::vector<float> out(golden.size());
    mxfp4_decode_matrix(ck->get(blocks).data, ck->get(scales).data, 768, 256, out.data());
    EXPECT_EQ(std::memcmp(out.data(), golden.data(), out.size() * 4), 0) << blocks;
    // Row by row gives the same.
    std::vector<float> row(256);
    mxfp4_decode_row(ck->get(blocks).data + 5 * 8 * 16, ck->get(scales).data + 5 * 8, 256, row.data());
    EXPECT_EQ(std::memcmp(row.data(), golden.data() + 5 * 256, 256 * 4), 0);
  }
}

TEST(Mxfp4, EncodeEveryCodeAndTies) {
  for (uint8_t code = 0; code < 16; ++code) {
    uint8_t want = code == 8 ? 0 : code;  // -0 encodes as +0
    EXPECT_EQ(fp4_encode(kFp4Values[code]), want) << int(code);
  }
  EXPECT_EQ(fp4_encode(0.25f), 0);   // tie 0 | 0.5 -> even
  EXPECT_EQ(fp4_encode(0.75f), 2);   // tie 0.5 | 1 -> 1.0
  EXPECT_EQ(fp4_encode(1.25f), 2);   // tie 1 | 1.5 -> 1.0
  EXPECT_EQ(fp4_encode(1.75f), 4);   // tie 1.5 | 2 -> 2.0
  EXPECT_EQ(fp4_encode(2.5f), 4);    // tie 2 | 3 -> 2.0
  EXPECT_EQ(fp4_encode(3.5f), 6);    // tie 3 | 4 -> 4.0
  EXPECT_EQ(fp4_encode(5.0f), 6);    // tie 4 | 6 -> 4.0
  EXPECT_EQ(fp4_encode(-5.1f), 15);
  EXPECT_EQ(fp4_encode(100.0f), 7);  // saturates
  EXPECT_EQ(fp4_encode(0.26f), 1);
}

TEST(Mxfp4, QuantizeDecodeRoundTrip) {
  std::mt19937 gen(1234);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  const int in = 256;
  std::vector<float> x(in), y(in), z(in);
  std::vector<uint8_t> blocks(in / 2), scales(in / 32), blocks2(in / 2), scales2(in / 32);
  for (int trial = 0; trial < 50; ++trial) {
    for (auto& v : x) v = normal(gen) * (trial % 5 == 0 ? 1000.0f : 1.0f);
    mxfp4_quantize_row(x.data(), in, blocks.data(), scales.data());
    mxfp4_decode_row(blocks.data(), scales.data(), in, y.data());
    for (int g = 0; g < in / 32; ++g) {
      float scale = e8m0_to_f32(scales[static_cast<size_t>(g)]);
      float amax = 0;
      for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[static_cast<size_t>(g * 32 + j)]));
      EXPECT_LE(amax, 6.0f * scale);          // the largest value fits...
      EXPECT_GT(amax, 3.0f * scale);          // ...and the scale is the smallest that does
      for (int j = 0; j < 32; ++j) {
        size_t i = static_cast<size_t>(g * 32 + j);
        EXPECT_LE(std::fabs(x[i] - y[i]), 1.0f * scale) << i;  // half of the widest step (2)
      }
    }
    // Decoded values are representable: quantizing them again changes nothing.
    mxfp4_quantize_row(y.data(), in, blocks2.data(), scales2.data());
    mxfp4_decode_row(blocks2.data(), scales2.data(), in, z.data());
    EXPECT_EQ(std::memcmp(y.data(), z.data(), in * 4), 0);
  }
}

TEST(Mxfp4, ExactValuesAndZeroBlock) {
  std::vector<float> x(32, 0.0f), y(32);
  std::vector<uint8_t> b(16), s(1);
  mxfp4_quantize_row(x.data(), 32, b.data(), s.data());
  mxfp4_decode_row(b.data(), s.data(), 32, y.data());
  for (float v : y) EXPECT_EQ(v, 0.0f);
  for (int j = 0; j < 32; ++j) x[static_cast<size_t>(j)] = kFp4Values[j % 16] * 0.125f;  // max 6 * 2^-3
  mxfp4_quantize_row(x.data(), 32, b.data(), s.data());
  EXPECT_EQ(s[0], 127 - 3);
  mxfp4_decode_row(b.data(), s.data(), 32, y.data());
  for (int j = 0; j < 32; ++j) EXPECT_EQ(y[static_cast<size_t>(j)], x[static_cast<size_t>(j)]);
}

}  // namespace
}  // namespace gossamer::model
