#pragma once
// Shared by the fuzz targets: what counts as a finding, scratch files for readers that take
// a path, and the real tokenizer.
//
// A reader of outside bytes may refuse its input only with gossamer::Error of a code other
// than kInternal (kInternal means a broken invariant, i.e. a bug). Any other exception
// (a JSON library type_error, std::out_of_range, bad_alloc, ...) escaping a reader is a
// finding too: the service would turn it into an opaque failure or crash on it.
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

#include "core/error.h"
#include "tokenizer/tokenizer.h"

namespace gossamer::fuzz {

[[noreturn]] inline void finding(const char* what, const std::string& detail) {
  std::fprintf(stderr, "FUZZ FINDING: %s: %s\n", what, detail.c_str());
  std::abort();
}

// Runs `read`; a gossamer::Error other than kInternal is an accepted refusal.
template <class F>
void expect_named_errors(F&& read) {
  try {
    read();
  } catch (const gossamer::Error& e) {
    if (e.code() == ErrorCode::kInternal) finding("kInternal error", e.what());
  } catch (const std::exception& e) {
    finding("exception other than gossamer::Error", e.what());
  }
}

// A directory of this process's own under $TMPDIR (default /dev/shm, so no disk I/O),
// removed at exit.
inline const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* base = std::getenv("TMPDIR");
    std::filesystem::path root = base && *base ? base : "/dev/shm";
    if (!std::filesystem::is_directory(root)) root = "/tmp";
    auto d = root / ("gossamer-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    static struct Cleanup {
      std::filesystem::path p;
      ~Cleanup() {
        std::error_code ec;
        std::filesystem::remove_all(p, ec);
      }
    } cleanup{d};
    return d;
  }();
  return dir;
}

inline void write_file(const std::filesystem::path& path, std::string_view bytes) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) finding("scratch file", "cannot write " + path.string());
}

// The real gpt-oss tokenizer from $GOSSAMER_TOKENIZER (fuzz/run.sh sets it); loaded once.
inline const Tokenizer& real_tokenizer() {
  static const Tokenizer tok = [] {
    const char* path = std::getenv("GOSSAMER_TOKENIZER");
    if (!path || !*path) {
      std::fprintf(stderr, "set GOSSAMER_TOKENIZER to the gpt-oss tokenizer.json\n");
      std::exit(2);
    }
    return Tokenizer::load(path);
  }();
  return tok;
}

inline std::string_view as_text(const uint8_t* data, size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

}  // namespace gossamer::fuzz
