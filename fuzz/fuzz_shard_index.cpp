// model.safetensors.index.json from arbitrary bytes (model/checkpoint.h): Checkpoint::open
// on a directory holding the tiny model's config.json, two small valid shards (a.safetensors,
// b.safetensors) and the fuzzed index. Properties: no crash, refusals are named errors (a
// name climbing out of the directory, a missing shard, a tensor not in its shard), and a
// checkpoint that opens lists exactly the tensors its shards hold, each inside its file.
#include <cstring>
#include <vector>

#include "core/log.h"
#include "fuzz/fuzz_support.h"
#include "model/checkpoint.h"
#include "model/safetensors_writer.h"

using namespace gossamer;
namespace fs = std::filesystem;

namespace {

void write_shard(const fs::path& path, const std::vector<model::TensorSpec>& specs) {
  model::SafetensorsWriter w(path, specs);
  for (const auto& s : specs) {
    std::vector<uint8_t> bytes(s.nbytes(), 0x3c);
    w.append(s.name, bytes.data(), bytes.size());
  }
  w.finish();
}

const fs::path& model_dir() {
  static const fs::path dir = [] {
    fs::path d = fuzz::scratch_dir() / "model";
    fs::create_directories(d);
    fs::copy_file(fs::path(GOSSAMER_TEST_DATA) / "tiny/model/config.json", d / "config.json",
                  fs::copy_options::overwrite_existing);
    write_shard(d / "a.safetensors", {{"x", DType::kF32, {2, 3}}, {"y", DType::kBF16, {4}}});
    write_shard(d / "b.safetensors", {{"z", DType::kU8, {5}}, {"w", DType::kI32, {}}});
    configure_logging("error");  // "tensors ... are ignored" warnings on every run
    return d;
  }();
  return dir;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const fs::path& dir = model_dir();
  fuzz::write_file(dir / "model.safetensors.index.json", fuzz::as_text(data, size));
  fuzz::expect_named_errors([&] {
    auto c = model::Checkpoint::open(dir, model::CheckpointLayout::kHF);
    for (const auto& t : c->tensors()) {
      if (t.file.parent_path() != dir) fuzz::finding("tensor from a file outside the model", t.file.string());
      if (c->find(t.name) != &t) fuzz::finding("tensor not found by name", t.name);
    }
  });
  return 0;
}
