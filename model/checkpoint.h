#pragma once
// A gpt-oss checkpoint on disk: config + safetensors files, mmapped read-only.
// Understands the HF layout (model.safetensors.index.json + shards, or one
// model.safetensors) and the original layout (original/config.json + model.safetensors).
// Only headers are parsed at open; tensor bytes are touched when a caller reads them.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"
#include "model/config.h"

namespace gossamer::model {

enum class CheckpointLayout { kAuto, kHF, kOriginal };

struct TensorInfo {
  std::string name;
  DType dtype = DType::kF32;       // from the safetensors header ("BF16", "F32", "U8", ...)
  std::vector<int64_t> shape;
  std::filesystem::path file;      // the safetensors file holding it
  const uint8_t* data = nullptr;   // into the mmap
  size_t nbytes = 0;
};

class SafetensorsFile;  // model/safetensors.h

class Checkpoint {
 public:
  // dir is a model directory; kAuto prefers the HF layout and falls back to original/.
  // Throws gossamer::Error naming the file on anything malformed.
  static std::shared_ptr<Checkpoint> open(const std::filesystem::path& dir,
                                          CheckpointLayout layout = CheckpointLayout::kAuto);
  ~Checkpoint();

  const ModelConfig& config() const { return config_; }
  CheckpointLayout layout() const { return layout_; }
  const std::filesystem::path& dir() const { return dir_; }
  const std::vector<TensorInfo>& tensors() const { return tensors_; }
  const TensorInfo* find(const std::string& name) const;
  // Throws kNotFound naming the tensor and where it was looked for.
  const TensorInfo& get(const std::string& name) const;

  // Where things came from, for messages and `inspect`.
  const std::filesystem::path& config_path() const { return config_path_; }
  // The index file (HF sharded) or the single .safetensors file.
  const std::filesystem::path& source_path() const { return source_path_; }
  std::vector<std::filesystem::path> files() const;  // the safetensors files, in order
  uint64_t total_bytes() const;                      // sum of the files' sizes

  // Every safetensors file is still as it was when opened (SafetensorsFile::
  // check_unchanged): call after the weights are prepared, before serving starts.
  void check_files_unchanged() const;

 private:
  Checkpoint() = default;
  ModelConfig config_;
  CheckpointLayout layout_ = CheckpointLayout::kHF;
  std::filesystem::path dir_;
  std::filesystem::path config_path_, source_path_;
  void open_hf(const std::filesystem::path& dir);
  void open_original(const std::filesystem::path& root);
  void add_file_tensors(size_t file_index, const std::vector<std::string>* only);
  std::vector<std::unique_ptr<SafetensorsFile>> files_;
  std::vector<TensorInfo> tensors_;
  std::unordered_map<std::string, size_t> by_name_;
};

}  // namespace gossamer::model
