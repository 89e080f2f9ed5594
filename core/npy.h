#pragma once
// Minimal NumPy .npy (format 1.0) writer/reader for float32 C-order arrays: the format of
// eval-logits output and of --dump intermediates, so numpy.load reads them directly.
#include <cstdint>
#include <filesystem>
#include <vector>

namespace gossamer {

void write_npy_f32(const std::filesystem::path& path, const float* data,
                   const std::vector<int64_t>& shape);

struct NpyArray {
  std::vector<int64_t> shape;
  std::vector<float> data;
};
// Reads a little-endian float32 C-order .npy; throws gossamer::Error otherwise.
NpyArray read_npy_f32(const std::filesystem::path& path);

}  // namespace gossamer
