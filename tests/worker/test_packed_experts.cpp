// The packed experts of precision fast (worker/packed_experts.h): packed once per
// checkpoint and rank slice into a cache file, read back on later starts, packed again when
// the file is stale, kept in memory when caching is off. The cache file itself is
// ISA-independent, and precision fast packs on every CPU, so all of it runs everywhere.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "kernels/cpu/mxfp4_pack.h"
#include "kernels/exec.h"
#include "tests/common/checkpoint_fixtures.h"
#include "worker/packed_experts.h"
#include "worker/weight_prep.h"

namespace gossamer::worker {
namespace {

using namespace gossamer::testing;

// Points GOSSAMER_CACHE_DIR at `value` for one test, then restores it.
class CacheDirOverride {
 public:
  explicit CacheDirOverride(const std::string& value) {
    if (const char* v = std::getenv("GOSSAMER_CACHE_DIR")) old_ = v, had_ = true;
    ::setenv("GOSSAMER_CACHE_DIR", value.c_str(), 1);
  }
  ~CacheDirOverride() {
    if (had_) ::setenv("GOSSAMER_CACHE_DIR", old_.c_str(), 1);
    else ::unsetenv("GOSSAMER_CACHE_DIR");
  }

 private:
  std::string old_;
  bool had_ = false;
};

std::vector<std::filesystem::path> files_in(const std::filesystem::path& dir) {
  std::vector<std::filesystem::path> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) out.push_back(e.path());
  return out;
}

TEST(PackedExpertStore, KeepsWhatWasCommittedForTheSameWeights) {
  TempDir cache;
  CacheDirOverride env(cache.path().string());
  const ModelWeights w = load_weights(model::Checkpoint::open(tiny_dir()));
  constexpr uint64_t kBytes = 3 << 20;
  {
    auto store = PackedExpertStore::open(w, kBytes);
    ASSERT_FALSE(store->ready());
    for (uint64_t i = 0; i < kBytes; ++i) store->data()[i] = uint8_t(i * 7 + 3);
    EXPECT_EQ(files_in(cache.path()).size(), 1u) << "only the temporary file before commit()";
    EXPECT_NE(files_in(cache.path())[0].string().find(".tmp."), std::string::npos);
    store->commit();
    EXPECT_TRUE(store->ready());
  }
  ASSERT_EQ(files_in(cache.path()).size(), 1u);
  const auto path = files_in(cache.path())[0];
  EXPECT_EQ(path.string().find(".tmp."), std::string::npos) << "renamed to its final name";
  {
    auto again = PackedExpertStore::open(w, kBytes);
    ASSERT_TRUE(again->ready()) << again->where();
    EXPECT_EQ(again->where(), path.string());
    for (uint64_t i = 0; i < kBytes; i += 4099) ASSERT_EQ(again->data()[i], uint8_t(i * 7 + 3)) << i;
  }
  // A different size (another selection's experts) or a damaged header is not reused.
  EXPECT_FALSE(PackedExpertStore::open(w, kBytes + 64)->ready());
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(3);
    f.put('X');
  }
  auto stale = PackedExpertStore::open(w, kBytes);
  EXPECT_FALSE(stale->ready()) << "a damaged header must not be trusted";
}

// A cache file with this header (the format of worker/packed_experts.cpp) and some data.
void write_cache_file(const std::filesystem::path& p, const std::string& key) {
  std::ofstream f(p, std::ios::binary);
  const std::string header = "GOSSAMER-PACKED-EXPERTS-1\n" + std::to_string(key.size()) + "\n" + key;
  f << header << std::string(4096, 'x');
}

TEST(PackedExpertStore, CommitRemovesFilesOfAnEarlierStateOfTheSameCheckpoint) {
  TempDir cache;
  CacheDirOverride env(cache.path().string());
  const ModelWeights w = load_weights(model::Checkpoint::open(tiny_dir()));
  const std::string key = packed_experts_key(w);
  // The same file paths with another inode (a checkpoint rewritten in place): stale.
  std::string stale = key;
  const size_t file_line = stale.find("\nfile ");
  ASSERT_NE(file_line, std::string::npos) << key;
  const size_t line_end = stale.find('\n', file_line + 1);
  const size_t last_space = stale.rfind(' ', line_end);
  stale.replace(last_space + 1, line_end - last_space - 1, "999999999");  // another inode
  write_cache_file(cache / "packed-experts-00000000000000aa.bin", stale);
  // Another slice of the same, unchanged files; and an unrelated checkpoint: both stay.
  write_cache_file(cache / "packed-experts-00000000000000bb.bin", key + "7 other-slice\n");
  write_cache_file(cache / "packed-experts-00000000000000cc.bin", "gossamer packed experts v1\nfile /elsewhere/m.safetensors 1 2.000000003 4\n");
  auto store = PackedExpertStore::open(w, 1 << 20);
  ASSERT_FALSE(store->ready());
  store->commit();
  EXPECT_FALSE(std::filesystem::exists(cache / "packed-experts-00000000000000aa.bin"));
  EXPECT_TRUE(std::filesystem::exists(cache / "packed-experts-00000000000000bb.bin"));
  EXPECT_TRUE(std::filesystem::exists(cache / "packed-experts-00000000000000cc.bin"));
  EXPECT_TRUE(PackedExpertStore::open(w, 1 << 20)->ready()) << "the new file itself stays";
}

TEST(PackedExpertStore, UncommittedFilesAreRemoved) {
  TempDir cache;
  CacheDirOverride env(cache.path().string());
  const ModelWeights w = load_weights(model::Checkpoint::open(tiny_dir()));
  { auto store = PackedExpertStore::open(w, 1 << 20); }  // e.g. a load that failed half-way
  EXPECT_TRUE(files_in(cache.path()).empty());
  EXPECT_FALSE(PackedExpertStore::open(w, 1 << 20)->ready());
}

TEST(PackedExpertStore, CachingOffKeepsThemInMemory) {
  CacheDirOverride env("off");
  const ModelWeights w = load_weights(model::Checkpoint::open(tiny_dir()));
  auto store = PackedExpertStore::open(w, 1 << 20);
  EXPECT_FALSE(store->ready());
  EXPECT_EQ(store->where().rfind("memory", 0), 0u) << store->where();
  store->data()[(1 << 20) - 1] = 1;  // writable
  store->commit();
  EXPECT_FALSE(store->ready());
}

TEST(PackedExpertStore, KeyNamesTheFilesAndEveryExpertSlice) {
  const auto ck = model::Checkpoint::open(tiny_dir());
  const std::string all = packed_experts_key(load_weights(ck));
  for (const auto& f : ck->files()) EXPECT_NE(all.find(f.filename().string()), std::string::npos) << f;
  EXPECT_NE(all.find("gate_up_proj_blocks+"), std::string::npos) << all;
  WeightSelection some;
  some.experts = {1, 3};
  const std::string slice = packed_experts_key(load_weights(ck, some));
  EXPECT_NE(all, slice);
  EXPECT_EQ(all, packed_experts_key(load_weights(ck))) << "the key is the same for the same weights";
}

std::vector<uint8_t> packed_bytes_of(const ModelWeights& w) {
  std::vector<uint8_t> out;
  for (const auto& l : w.layers)
    for (const ExpertMatrix* m : {&l.mlp1, &l.mlp2})
      for (const auto& e : m->per_expert) {
        EXPECT_NE(e.packed, nullptr);
        if (e.packed) out.insert(out.end(), e.packed, e.packed + kernels::cpu::packed_mxfp4_bytes(e));
      }
  return out;
}

TEST(PackedExperts, FastPrecisionPacksOnceThenReadsTheCacheFile) {
  TempDir cache;
  CacheDirOverride env(cache.path().string());
  const auto fast = kernels::Exec::cpu(nullptr, kernels::Precision::kFast);
  ModelWeights first = load_weights(model::Checkpoint::open(tiny_dir()));
  const PreparedSummary s1 = prepare_weights(first, fast);
  EXPECT_NE(s1.packed_experts.find("(written now)"), std::string::npos) << s1.packed_experts;
  const auto bytes = packed_bytes_of(first);

  ModelWeights second = load_weights(model::Checkpoint::open(tiny_dir()));
  const PreparedSummary s2 = prepare_weights(second, fast);
  EXPECT_EQ(s2.packed_experts.find("(written now)"), std::string::npos) << s2.packed_experts;
  EXPECT_EQ(s2.packed_experts.rfind(cache.path().string(), 0), 0u) << s2.packed_experts;
  EXPECT_EQ(packed_bytes_of(second), bytes);

  // The same bytes as packing in memory, with caching off.
  CacheDirOverride off("off");
  ModelWeights third = load_weights(model::Checkpoint::open(tiny_dir()));
  EXPECT_EQ(prepare_weights(third, fast).packed_experts.rfind("memory", 0), 0u);
  EXPECT_EQ(packed_bytes_of(third), bytes);

  // Exact precision reads the stored layout: nothing packed.
  ModelWeights exact = load_weights(model::Checkpoint::open(tiny_dir()));
  EXPECT_TRUE(prepare_weights(exact, kernels::Exec::cpu()).packed_experts.empty());
  EXPECT_EQ(exact.layers[0].mlp1.per_expert[0].packed, nullptr);
}

}  // namespace
}  // namespace gossamer::worker
