#pragma once
// Access to the golden tiny set in tests/data/tiny (see tests/data/README.md).
#include <cstdint>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace gossamer::testing {

// Not tiny_dir(): tests/common/checkpoint_fixtures.h has a tiny_dir() returning fs::path in
// the same namespace, and a second definition with another return type is an ODR violation
// (one mangled name; the linker keeps either body).
inline std::string tiny_data_dir() { return std::string(GOSSAMER_TEST_DATA) + "/tiny"; }
inline std::string tiny_model_dir() { return tiny_data_dir() + "/model"; }

inline const nlohmann::json& tiny_manifest() {
  static const nlohmann::json m = [] {
    std::ifstream f(tiny_data_dir() + "/golden/manifest.json");
    return nlohmann::json::parse(f);
  }();
  return m;
}

inline std::vector<float> read_f32_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  EXPECT_TRUE(f.good()) << path;
  const auto bytes = static_cast<size_t>(f.tellg());
  std::vector<float> v(bytes / 4);
  f.seekg(0);
  f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(bytes));
  return v;
}

// Largest |a - b| over one row of `cols` values.
inline double row_max_abs(const float* a, const float* b, int64_t cols) {
  double m = 0;
  for (int64_t i = 0; i < cols; ++i) m = std::max(m, std::abs(double(a[i]) - double(b[i])));
  return m;
}

}  // namespace gossamer::testing
