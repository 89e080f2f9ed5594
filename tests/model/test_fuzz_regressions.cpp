// Inputs the fuzz targets (fuzz/) found, kept as plain tests so the normal suite guards them.
#include <gtest/gtest.h>

#include "model/checkpoint.h"
#include "tests/common/checkpoint_fixtures.h"

namespace gossamer::model {
namespace {

using namespace gossamer::testing;

// fuzz/fuzz_shard_index.cpp: a shard name longer than the file system's NAME_MAX made
// std::filesystem::exists throw filesystem_error (ENAMETOOLONG) out of Checkpoint::open
// instead of a gossamer::Error naming the index and the tensor.
TEST(FuzzRegressions, ShardNameTooLongForTheFileSystemIsCorruptData) {
  TempDir t;
  const fs::path m = copy_tiny(t);
  auto j = read_json(m / "model.safetensors.index.json");
  j["weight_map"]["lm_head.weight"] = std::string(300, 'W') + ".safetensors";
  write_json(m / "model.safetensors.index.json", j);
  try {
    Checkpoint::open(m);
    ADD_FAILURE() << "no error thrown";
  } catch (const gossamer::Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kCorruptData) << e.what();
    const std::string msg = e.what();
    EXPECT_NE(msg.find("model.safetensors.index.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find("lm_head.weight"), std::string::npos) << msg;
  } catch (const std::exception& e) {
    ADD_FAILURE() << "not a gossamer::Error: " << e.what();
  }
}

}  // namespace
}  // namespace gossamer::model
