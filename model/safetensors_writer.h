#pragma once
// Streaming .safetensors writer: the header is written first (every tensor's name, dtype
// and shape are known up front), then the tensors' bytes in header order, one piece at a
// time, so a 13 GB checkpoint never sits in memory. The file is written as `<path>.tmp`
// and renamed on finish(), so an interrupted writer never leaves a valid-looking file.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/dtype.h"

namespace gossamer::model {

struct TensorSpec {
  std::string name;
  DType dtype = DType::kF32;  // F32, BF16, F16, U8, I32, I64 (not kMXFP4: blocks are U8)
  std::vector<int64_t> shape;
  uint64_t nbytes() const;
};

class SafetensorsWriter {
 public:
  // Writes the header at once. Throws kIo naming the file when it cannot be created.
  SafetensorsWriter(std::filesystem::path path, std::vector<TensorSpec> tensors,
                    std::map<std::string, std::string> metadata = {{"format", "pt"}});
  ~SafetensorsWriter();  // an unfinished file is removed
  SafetensorsWriter(const SafetensorsWriter&) = delete;
  SafetensorsWriter& operator=(const SafetensorsWriter&) = delete;

  // Appends bytes of tensor `name`, which must be the next unfinished tensor in header
  // order; a tensor may arrive in several pieces. Throws kInvalidArgument on a wrong
  // name or too many bytes, kIo on a write error.
  void append(const std::string& name, const void* data, size_t n);
  // Checks every tensor got all its bytes, flushes, renames into place.
  void finish();

  const std::filesystem::path& path() const { return path_; }
  uint64_t bytes_total() const { return total_; }  // header + data

 private:
  std::filesystem::path path_, tmp_;
  std::vector<TensorSpec> tensors_;
  std::FILE* file_ = nullptr;
  size_t current_ = 0;        // index of the tensor being written
  uint64_t written_ = 0;      // bytes of tensors_[current_] written so far
  uint64_t total_ = 0;
  bool finished_ = false;
};

}  // namespace gossamer::model
