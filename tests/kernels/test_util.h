#pragma once
// Helpers shared by the kernel tests: seeded random inputs, the relative-norm error
// every comparison uses, and a minimal safetensors reader (the real one lives in model/;
// tests of kernels must not depend on it).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/dtype.h"
#include "core/error.h"
#include "core/thread_pool.h"
#include "kernels/exec.h"

namespace gossamer::kernels::test {

// Several threads even on a 2-core box, so the chunking logic is exercised.
inline Exec exec3() {
  static ThreadPool pool(3);
  return Exec::cpu(&pool);
}

inline std::vector<float> random_vec(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (auto& x : v) x = dist(rng);
  return v;
}

inline std::vector<uint16_t> random_bf16(size_t n, uint32_t seed, float scale = 1.f) {
  auto f = random_vec(n, seed, -scale, scale);
  std::vector<uint16_t> out(n);
  for (size_t i = 0; i < n; ++i) out[i] = f32_to_bf16(f[i]).bits;
  return out;
}

// ||a - b|| / ||b|| over n elements.
inline double rel_err(const float* a, const float* b, size_t n) {
  double num = 0, den = 0;
  for (size_t i = 0; i < n; ++i) {
    num += (double(a[i]) - b[i]) * (double(a[i]) - b[i]);
    den += double(b[i]) * b[i];
  }
  return den > 0 ? std::sqrt(num / den) : std::sqrt(num);
}
inline double rel_err(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() ? rel_err(a.data(), b.data(), a.size()) : 1e30;
}

inline std::string data_path(const std::string& rel) { return std::string(GOSSAMER_TEST_DATA) + "/" + rel; }

inline std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Whole file in memory: u64 little-endian header length, JSON header, then the data.
struct Safetensors {
  std::vector<uint8_t> bytes;
  nlohmann::json header;
  size_t data_start = 0;

  explicit Safetensors(const std::string& path) : bytes(read_bytes(path)) {
    if (bytes.size() < 8) return;
    uint64_t len = 0;
    std::memcpy(&len, bytes.data(), 8);
    header = nlohmann::json::parse(bytes.begin() + 8, bytes.begin() + 8 + long(len));
    data_start = 8 + len;
  }
  bool has(const std::string& name) const { return header.contains(name); }
  std::vector<int64_t> shape(const std::string& name) const {
    return header.at(name).at("shape").get<std::vector<int64_t>>();
  }
  std::string dtype(const std::string& name) const { return header.at(name).at("dtype"); }
  const uint8_t* data(const std::string& name) const {
    return bytes.data() + data_start + header.at(name).at("data_offsets")[0].get<size_t>();
  }
  size_t nbytes(const std::string& name) const {
    const auto& o = header.at(name).at("data_offsets");
    return o[1].get<size_t>() - o[0].get<size_t>();
  }
};

}  // namespace gossamer::kernels::test
