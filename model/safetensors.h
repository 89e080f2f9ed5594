#pragma once
// One .safetensors file, mmapped read-only (https://huggingface.co/docs/safetensors):
//   [u64 little-endian N][N bytes of JSON header][data section]
// The header maps tensor names to {dtype, shape, data_offsets: [begin, end)} relative to
// the data section. open() validates everything a later read could trip over, so a
// truncated or hand-edited file fails here, with the file and tensor named, rather than
// as a segfault in a kernel.
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/dtype.h"

namespace gossamer::model {

struct SafetensorsEntry {
  std::string name;
  DType dtype = DType::kF32;
  std::vector<int64_t> shape;
  uint64_t begin = 0, end = 0;  // byte range inside the data section
  uint64_t nbytes() const { return end - begin; }
};

class SafetensorsFile {
 public:
  // Throws kNotFound / kIo when the file cannot be opened or mapped, kCorruptData when
  // its bytes contradict the format, kUnsupported for dtypes we do not read.
  static std::unique_ptr<SafetensorsFile> open(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(const SafetensorsFile&) = delete;
  SafetensorsFile& operator=(const SafetensorsFile&) = delete;

  const std::filesystem::path& path() const { return path_; }
  uint64_t file_size() const { return size_; }
  uint64_t header_size() const { return header_len_; }
  // Entries sorted by their offset in the file.
  const std::vector<SafetensorsEntry>& entries() const { return entries_; }
  const SafetensorsEntry* find(const std::string& name) const;
  const uint8_t* data(const SafetensorsEntry& e) const { return data_ + e.begin; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

  // The mapping reads the file's pages, so the file must stay as it was at open(): a file
  // truncated since then makes any read of the lost pages a SIGBUS, and one rewritten in
  // place changes the weights under a running model. Throws kCorruptData naming the file
  // (and, when truncated, the first tensor now past the end), kIo when fstat fails.
  // Checks the open file itself (the descriptor is kept), so replacing the path by a new
  // file (rename, as our writer does) is harmless: the mapping keeps the old one alive.
  // An in-place write within the file system's timestamp granularity of the last
  // modification before open() goes unseen (docs/RELIABILITY.md, "Loader failures").
  void check_unchanged() const;

 private:
  SafetensorsFile() = default;
  void parse_header(const std::string& header);

  std::filesystem::path path_;
  void* map_ = nullptr;
  int fd_ = -1;  // kept open for check_unchanged()
  uint64_t size_ = 0;
  int64_t mtime_ns_ = 0;  // at open
  uint64_t header_len_ = 0;
  const uint8_t* data_ = nullptr;  // start of the data section
  std::vector<SafetensorsEntry> entries_;
  std::unordered_map<std::string, size_t> by_name_;
  std::map<std::string, std::string> metadata_;
};

// "BF16" -> kBF16 etc. Returns false for names that are valid safetensors dtypes we do not
// handle and for garbage; `known` tells which (for the error message).
bool parse_safetensors_dtype(const std::string& s, DType* out, bool* known);
const char* safetensors_dtype_name(DType t);

// Tells the kernel we will read [p, p+n) soon (madvise WILLNEED on the enclosing pages).
// Best effort: failures are ignored, the bytes are read on demand anyway.
void advise_willneed(const void* p, size_t n);

}  // namespace gossamer::model
