#include "core/npy.h"

#include <fstream>
#include <string>

#include <fmt/format.h>

#include "core/error.h"

namespace gossamer {

void write_npy_f32(const std::filesystem::path& path, const float* data,
                   const std::vector<int64_t>& shape) {
  std::string dims;
  int64_t count = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    dims += fmt::format("{}{}", i ? ", " : "", shape[i]);
    count *= shape[i];
  }
  if (shape.size() == 1) dims += ",";
  std::string header =
      fmt::format("{{'descr': '<f4', 'fortran_order': False, 'shape': ({}), }}", dims);
  // magic(6) + version(2) + len(2) + header + '\n' padded to a multiple of 64.
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream f(path, std::ios::binary);
  if (!f) GOSSAMER_THROW(kIo, "cannot write {}", path.string());
  f.write("\x93NUMPY\x01\x00", 8);
  uint16_t len = static_cast<uint16_t>(header.size());
  f.write(reinterpret_cast<const char*>(&len), 2);
  f.write(header.data(), static_cast<std::streamsize>(header.size()));
  f.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(count * 4));
  if (!f) GOSSAMER_THROW(kIo, "short write to {}", path.string());
}

NpyArray read_npy_f32(const std::filesystem::path& path) {
  std::ifstream f(path, std::ios::binary);
  if (!f) GOSSAMER_THROW(kNotFound, "cannot open {}", path.string());
  char magic[8];
  uint16_t len = 0;
  f.read(magic, 8);
  f.read(reinterpret_cast<char*>(&len), 2);
  if (!f || std::string(magic, 6) != "\x93NUMPY" || magic[6] != 1)
    GOSSAMER_THROW(kCorruptData, "{}: not a version-1 .npy file", path.string());
  std::string header(len, '\0');
  f.read(header.data(), len);
  if (header.find("'<f4'") == std::string::npos || header.find("False") == std::string::npos)
    GOSSAMER_THROW(kUnsupported, "{}: only little-endian float32 C-order arrays", path.string());
  NpyArray out;
  size_t open = header.find('('), close = header.find(')');
  if (open == std::string::npos || close == std::string::npos)
    GOSSAMER_THROW(kCorruptData, "{}: no shape in header", path.string());
  std::string dims = header.substr(open + 1, close - open - 1);
  int64_t count = 1;
  size_t pos = 0;
  while (pos < dims.size()) {
    size_t comma = dims.find(',', pos);
    std::string part = dims.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    if (part.find_first_not_of(' ') != std::string::npos) {
      out.shape.push_back(std::stoll(part));
      count *= out.shape.back();
    }
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  out.data.resize(static_cast<size_t>(count));
  f.read(reinterpret_cast<char*>(out.data.data()), count * 4);
  if (!f) GOSSAMER_THROW(kCorruptData, "{}: truncated data", path.string());
  return out;
}

}  // namespace gossamer
