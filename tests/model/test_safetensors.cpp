// SafetensorsFile validation and the streaming writer.
#include <gtest/gtest.h>

#include "model/safetensors.h"
#include "model/safetensors_writer.h"
#include "tests/common/checkpoint_fixtures.h"

namespace gossamer::model {
namespace {

using namespace gossamer::testing;

const char* kShard1 = "model-00001-of-00002.safetensors";

TEST(Safetensors, ReadsTinyShard) {
  auto f = SafetensorsFile::open(tiny_dir() / kShard1);
  EXPECT_EQ(f->entries().size(), 34u);
  const auto* e = f->find("model.layers.1.mlp.experts.down_proj_blocks");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->dtype, DType::kU8);
  EXPECT_EQ(e->shape, (std::vector<int64_t>{8, 256, 12, 16}));
  EXPECT_EQ(e->nbytes(), 8u * 256 * 12 * 16);
  EXPECT_EQ(f->metadata().at("format"), "pt");
  for (size_t i = 1; i < f->entries().size(); ++i) EXPECT_LE(f->entries()[i - 1].end, f->entries()[i].begin);
}

TEST(Safetensors, WriterRoundTripInPieces) {
  TempDir t;
  std::vector<TensorSpec> specs = {{"a", DType::kF32, {2, 3}}, {"empty", DType::kBF16, {0, 4}},
                                   {"b", DType::kU8, {5}}, {"c", DType::kBF16, {3}}};
  std::vector<float> a = {1, 2, 3, 4, 5, 6};
  std::vector<uint8_t> b = {9, 8, 7, 6, 5};
  std::vector<uint16_t> c = {0x3f80, 0x4000, 0xc040};
  {
    SafetensorsWriter w(t / "x.safetensors", specs);
    w.append("a", a.data(), 8);  // a tensor may arrive in pieces
    w.append("a", a.data() + 2, 16);
    w.append("b", b.data(), 5);
    expect_error([&] { w.append("b", b.data(), 1); }, {"x.safetensors", "out of order", "c"});
    w.append("c", c.data(), 6);
    w.finish();
  }
  auto f = SafetensorsFile::open(t / "x.safetensors");
  EXPECT_EQ(f->header_size() % 8, 0u);  // data section stays 8-byte aligned
  ASSERT_EQ(f->entries().size(), 4u);
  const auto* ea = f->find("a");
  EXPECT_EQ(ea->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(std::memcmp(f->data(*ea), a.data(), 24), 0);
  EXPECT_EQ(std::memcmp(f->data(*f->find("b")), b.data(), 5), 0);
  EXPECT_EQ(std::memcmp(f->data(*f->find("c")), c.data(), 6), 0);
  EXPECT_EQ(f->find("empty")->nbytes(), 0u);
}

TEST(Safetensors, UnfinishedWriterLeavesNoFile) {
  TempDir t;
  {
    SafetensorsWriter w(t / "x.safetensors", {{"a", DType::kF32, {4}}});
    float v[2] = {1, 2};
    w.append("a", v, 8);
    expect_error([&] { w.append("a", v, 16); }, {"x.safetensors", "a", "expected"});
    expect_error([&] { w.finish(); }, {"x.safetensors", "a", "not finished"});
  }
  EXPECT_FALSE(fs::exists(t / "x.safetensors"));
  EXPECT_FALSE(fs::exists(t / "x.safetensors.tmp"));
}

class BadSafetensors : public ::testing::Test {
 protected:
  void SetUp() override {
    path_ = t_ / kShard1;
    fs::copy(tiny_dir() / kShard1, path_);
  }
  void expect_open_error(std::initializer_list<std::string> needles, const char* what) {
    expect_error([&] { SafetensorsFile::open(path_); }, needles, what);
  }
  TempDir t_;
  fs::path path_;
};

TEST_F(BadSafetensors, TruncatedFile) {
  fs::resize_file(path_, fs::file_size(path_) - 1000);
  // The last tensor in the file is the one cut short.
  expect_open_error({kShard1, "model.layers.2.mlp.experts.gate_up_proj_bias", "truncated"}, "truncated");
}

TEST_F(BadSafetensors, TooShortForHeaderLength) {
  fs::resize_file(path_, 5);
  expect_open_error({kShard1, "too short"}, "5 bytes");
}

TEST_F(BadSafetensors, HeaderLengthPastEof) {
  auto b = read_bytes(path_);
  b.resize(4000);  // the header says 3664 bytes: keep the length, cut inside the header
  b[0] = 0xff;
  b[1] = 0xff;
  write_bytes(path_, b);
  expect_open_error({kShard1, "header length", "past the end"}, "header length");
}

TEST_F(BadSafetensors, HeaderNotJson) {
  auto b = read_bytes(path_);
  b[8] = '[';
  b[9] = '[';
  write_bytes(path_, b);
  expect_open_error({kShard1, "not valid JSON"}, "json");
}

TEST_F(BadSafetensors, UnknownDtype) {
  edit_header(path_, [](auto& h) { h["model.layers.1.self_attn.sinks"]["dtype"] = "Q4_K"; });
  expect_open_error({kShard1, "model.layers.1.self_attn.sinks", "unknown dtype"}, "dtype");
}

TEST_F(BadSafetensors, OffsetsEndBeforeBegin) {
  edit_header(path_, [](auto& h) { h["model.layers.1.self_attn.sinks"]["data_offsets"] = {1314336, 1314304}; });
  expect_open_error({kShard1, "model.layers.1.self_attn.sinks", "end before begin"}, "end<begin");
}

TEST_F(BadSafetensors, OffsetsOutOfRange) {
  edit_header(path_, [](auto& h) { h["model.layers.1.self_attn.sinks"]["data_offsets"] = {9000000, 9000032}; });
  expect_open_error({kShard1, "model.layers.1.self_attn.sinks", "past the end"}, "range");
}

TEST_F(BadSafetensors, OffsetsDisagreeWithShape) {
  edit_header(path_, [](auto& h) { h["model.layers.1.self_attn.sinks"]["shape"] = {17}; });
  expect_open_error({kShard1, "model.layers.1.self_attn.sinks", "needs 34"}, "size");
}

TEST_F(BadSafetensors, OverlappingTensors) {
  // sinks [1314304, 1314336) moved 16 bytes back into o_proj.bias [1313792, 1314304).
  edit_header(path_, [](auto& h) { h["model.layers.1.self_attn.sinks"]["data_offsets"] = {1314288, 1314320}; });
  expect_open_error({kShard1, "model.layers.1.self_attn.sinks", "overlaps", "model.layers.1.self_attn.o_proj.bias"},
                    "overlap");
}

TEST_F(BadSafetensors, BadShapeEntries) {
  edit_header(path_, [](auto& h) { h["model.layers.1.self_attn.sinks"]["shape"] = {-16}; });
  expect_open_error({kShard1, "model.layers.1.self_attn.sinks", "dimension"}, "negative");
  fs::remove(path_);
  fs::copy(tiny_dir() / kShard1, path_);
  edit_header(path_, [](auto& h) { h["model.layers.1.self_attn.sinks"].erase("data_offsets"); });
  expect_open_error({kShard1, "model.layers.1.self_attn.sinks", "data_offsets"}, "no offsets");
}

TEST(Safetensors, MissingFile) {
  expect_error([] { SafetensorsFile::open("/nonexistent/x.safetensors"); }, {"/nonexistent/x.safetensors"});
}

}  // namespace
}  // namespace gossamer::model
