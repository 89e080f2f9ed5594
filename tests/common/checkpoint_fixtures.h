#pragma once
// Test helpers shared by the model, worker and apps tests: temporary directories, a copy
// of the golden tiny checkpoint to corrupt, safetensors header surgery, and assertions
// on gossamer::Error messages. Tests read tests/data only.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gossamer::testing {

namespace fs = std::filesystem;

inline fs::path tiny_dir() { return fs::path(GOSSAMER_TEST_DATA) / "tiny" / "model"; }
inline fs::path golden_dir() { return fs::path(GOSSAMER_TEST_DATA) / "tiny" / "golden"; }

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "gossamer-test-XXXXXX").string();
    char* p = ::mkdtemp(tmpl.data());
    if (!p) throw std::runtime_error("mkdtemp failed");
    path_ = p;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }
  fs::path operator/(const std::string& s) const { return path_ / s; }

 private:
  fs::path path_;
};

// A writable copy of tests/data/tiny/model (both layouts) at dir/model.
inline fs::path copy_tiny(const TempDir& dir) {
  fs::path dst = dir / "model";
  fs::copy(tiny_dir(), dst, fs::copy_options::recursive);
  return dst;
}

inline std::vector<uint8_t> read_bytes(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::vector<uint8_t>(std::istreambuf_iterator<char>(in), {});
}

inline void write_bytes(const fs::path& p, const std::vector<uint8_t>& b) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out.write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
}

inline nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

inline void write_json(const fs::path& p, const nlohmann::json& j) {
  std::ofstream out(p, std::ios::trunc);
  out << j.dump(1);
}

// Rewrites a safetensors file's JSON header through `edit`, keeping the data section.
inline void edit_header(const fs::path& p, const std::function<void(nlohmann::json&)>& edit) {
  auto b = read_bytes(p);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | b[static_cast<size_t>(i)];
  auto h = nlohmann::json::parse(std::string(b.begin() + 8, b.begin() + 8 + static_cast<long>(n)));
  edit(h);
  std::string s = h.dump();
  std::vector<uint8_t> out(8);
  for (int i = 0; i < 8; ++i) out[static_cast<size_t>(i)] = static_cast<uint8_t>(s.size() >> (8 * i));
  out.insert(out.end(), s.begin(), s.end());
  out.insert(out.end(), b.begin() + 8 + static_cast<long>(n), b.end());
  write_bytes(p, out);
}

// Runs fn, expects a gossamer::Error whose message contains every needle.
inline void expect_error(const std::function<void()>& fn, std::initializer_list<std::string> needles,
                         const char* what = "") {
  try {
    fn();
  } catch (const gossamer::Error& e) {
    std::string msg = e.what();
    for (const auto& n : needles) EXPECT_NE(msg.find(n), std::string::npos) << what << ": '" << n << "' not in: " << msg;
    return;
  } catch (const std::exception& e) {
    ADD_FAILURE() << what << ": not a gossamer::Error: " << e.what();
    return;
  }
  ADD_FAILURE() << what << ": no error thrown";
}

inline std::vector<float> read_f32_file(const fs::path& p) {
  auto b = read_bytes(p);
  std::vector<float> v(b.size() / 4);
  std::memcpy(v.data(), b.data(), v.size() * 4);
  return v;
}

}  // namespace gossamer::testing
