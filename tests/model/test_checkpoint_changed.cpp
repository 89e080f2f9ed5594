// A checkpoint's files changing under its mappings (Checkpoint::check_files_unchanged),
// and the error codes of the loader's refusals at open: each a named gossamer::Error
// (file and tensor in the message) before anything is served.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>

#include "model/checkpoint.h"
#include "model/safetensors.h"
#include "tests/common/checkpoint_fixtures.h"

namespace gossamer::model {
namespace {

using namespace gossamer::testing;

const std::string kShard2 = "model-00002-of-00002.safetensors";

void expect_code(const std::function<void()>& fn, ErrorCode code, std::initializer_list<std::string> needles) {
  try {
    fn();
  } catch (const gossamer::Error& e) {
    EXPECT_EQ(e.code(), code) << "got " << error_code_name(e.code()) << ": " << e.what();
    for (const auto& n : needles) EXPECT_NE(std::string(e.what()).find(n), std::string::npos) << n << " not in: " << e.what();
    return;
  }
  ADD_FAILURE() << "no error thrown";
}

class CheckpointChanged : public ::testing::Test {
 protected:
  void SetUp() override {
    m_ = copy_tiny(t_);
    // An old modification time, so an in-place write in this test changes it whatever the
    // file system's timestamp granularity.
    fs::last_write_time(m_ / kShard2, fs::file_time_type::clock::now() - std::chrono::hours(1));
  }
  TempDir t_;
  fs::path m_;
};

TEST_F(CheckpointChanged, UnchangedFilesPass) {
  auto c = Checkpoint::open(m_);
  EXPECT_NO_THROW(c->check_files_unchanged());
}

TEST_F(CheckpointChanged, TruncatedWhileMappedNamesTheFileAndTheFirstLostTensor) {
  auto c = Checkpoint::open(m_);
  const fs::path shard = m_ / kShard2;
  const uint64_t half = fs::file_size(shard) / 2;
  // The tensor expected in the message, from the pristine copy in tests/data: the first (by
  // offset) whose bytes end past the new size.
  auto pristine = SafetensorsFile::open(tiny_dir() / kShard2);
  const uint64_t data_start = 8 + pristine->header_size();
  std::string lost;
  for (const auto& e : pristine->entries())
    if (e.nbytes() > 0 && data_start + e.end > half) {
      lost = e.name;
      break;
    }
  ASSERT_FALSE(lost.empty());
  fs::resize_file(shard, half);
  // No tensor bytes are read after this point: the lost pages would SIGBUS.
  expect_code([&] { c->check_files_unchanged(); }, ErrorCode::kCorruptData,
              {shard.string(), "truncated", "tensor " + lost + " ", "SIGBUS"});
}

TEST_F(CheckpointChanged, RewrittenInPlaceIsNamed) {
  auto c = Checkpoint::open(m_);
  const fs::path shard = m_ / kShard2;
  {
    std::fstream f(shard, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-4, std::ios::end);
    f.write("\x7f\x7f\x7f\x7f", 4);
  }
  expect_code([&] { c->check_files_unchanged(); }, ErrorCode::kCorruptData, {shard.string(), "changed on disk"});
}

TEST_F(CheckpointChanged, ReplacedByRenameKeepsTheMappedFile) {
  auto c = Checkpoint::open(m_);
  const TensorInfo& t = c->get("lm_head.weight");
  const std::vector<uint8_t> before(t.data, t.data + t.nbytes);
  // A new file renamed over the path (how our writer and most tools write): the mapping
  // still holds the old inode, so nothing the model reads has changed.
  const fs::path shard = m_ / kShard2;
  fs::copy_file(shard, m_ / "replacement.tmp");
  {
    std::fstream f(m_ / "replacement.tmp", std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-4, std::ios::end);
    f.write("\x7f\x7f\x7f\x7f", 4);
  }
  fs::rename(m_ / "replacement.tmp", shard);
  EXPECT_NO_THROW(c->check_files_unchanged());
  EXPECT_EQ(std::vector<uint8_t>(t.data, t.data + t.nbytes), before);
}

// The refusals at open carry the codes the service maps to its start-up failure.
TEST_F(CheckpointChanged, OpenRefusalsHaveNamedCodes) {
  const fs::path index = m_ / "model.safetensors.index.json";
  auto j = read_json(index);
  {
    auto k = j;
    k["weight_map"]["model.layers.3.self_attn.sinks"] = "model-00000-of-00002.safetensors";
    write_json(index, k);
    expect_code([&] { Checkpoint::open(m_); }, ErrorCode::kCorruptData,
                {"model-00000-of-00002.safetensors", "model.layers.3.self_attn.sinks", "missing from the file"});
  }
  {
    auto k = j;
    k["weight_map"]["lm_head.weight"] = "model-00003-of-00002.safetensors";
    write_json(index, k);
    expect_code([&] { Checkpoint::open(m_); }, ErrorCode::kNotFound,
                {"model-00003-of-00002.safetensors", "lm_head.weight", "does not exist"});
  }
  write_json(index, j);
  fs::resize_file(m_ / kShard2, fs::file_size(m_ / kShard2) - 10);
  expect_code([&] { Checkpoint::open(m_); }, ErrorCode::kCorruptData, {kShard2, "lm_head.weight", "truncated"});
}

}  // namespace
}  // namespace gossamer::model
