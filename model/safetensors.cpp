#include "model/safetensors.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace gossamer::model {
namespace {

// The reference implementation refuses headers over 100 MB; so do we, before allocating.
constexpr uint64_t kMaxHeader = 100ull << 20;

int64_t mtime_ns(const struct stat& st) {
  return static_cast<int64_t>(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
}

}  // namespace

bool parse_safetensors_dtype(const std::string& s, DType* out, bool* known) {
  static const std::pair<const char*, DType> kOurs[] = {
      {"F32", DType::kF32}, {"BF16", DType::kBF16}, {"F16", DType::kF16},
      {"U8", DType::kU8},   {"I32", DType::kI32},   {"I64", DType::kI64}};
  static const char* kTheirs[] = {"F64", "I8", "I16", "U16", "U32", "U64", "BOOL",
                                  "F8_E4M3", "F8_E5M2", "F8_E8M0", "F4", "F6_E2M3", "F6_E3M2"};
  for (auto& [name, t] : kOurs)
    if (s == name) {
      *out = t;
      *known = true;
      return true;
    }
  *known = false;
  for (const char* name : kTheirs) *known |= s == name;
  return false;
}

const char* safetensors_dtype_name(DType t) { return dtype_name(t); }

std::unique_ptr<SafetensorsFile> SafetensorsFile::open(const std::filesystem::path& path) {
  std::unique_ptr<SafetensorsFile> f(new SafetensorsFile());
  f->path_ = path;
  const std::string p = path.string();
  f->fd_ = ::open(p.c_str(), O_RDONLY | O_CLOEXEC);
  if (f->fd_ < 0) {
    if (errno == ENOENT) GOSSAMER_THROW(kNotFound, "{}: no such file", p);
    GOSSAMER_THROW(kIo, "{}: cannot open: {}", p, std::strerror(errno));
  }
  struct stat st {};
  if (::fstat(f->fd_, &st) != 0) GOSSAMER_THROW(kIo, "{}: fstat failed: {}", p, std::strerror(errno));
  if (!S_ISREG(st.st_mode)) GOSSAMER_THROW(kIo, "{}: not a regular file", p);
  f->size_ = static_cast<uint64_t>(st.st_size);
  f->mtime_ns_ = mtime_ns(st);
  if (f->size_ < 8)
    GOSSAMER_THROW(kCorruptData, "{}: {} bytes, too short for the 8-byte header length (truncated file?)", p,
                   f->size_);
  f->map_ = ::mmap(nullptr, f->size_, PROT_READ, MAP_PRIVATE, f->fd_, 0);
  if (f->map_ == MAP_FAILED) {
    f->map_ = nullptr;
    GOSSAMER_THROW(kIo, "{}: mmap of {} bytes failed: {}", p, f->size_, std::strerror(errno));
  }
  const auto* base = static_cast<const uint8_t*>(f->map_);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | base[i];  // little-endian whatever the host
  if (n > f->size_ - 8)
    GOSSAMER_THROW(kCorruptData, "{}: header length {} runs past the end of the file ({} bytes; truncated file?)",
                   p, n, f->size_);
  if (n > kMaxHeader) GOSSAMER_THROW(kCorruptData, "{}: header length {} exceeds the 100 MB limit", p, n);
  f->header_len_ = n;
  f->data_ = base + 8 + n;
  f->parse_header(std::string(reinterpret_cast<const char*>(base + 8), n));
  return f;
}

SafetensorsFile::~SafetensorsFile() {
  if (map_) ::munmap(map_, size_);
  if (fd_ >= 0) ::close(fd_);
}

void SafetensorsFile::check_unchanged() const {
  const std::string p = path_.string();
  struct stat st {};
  if (::fstat(fd_, &st) != 0) GOSSAMER_THROW(kIo, "{}: fstat failed: {}", p, std::strerror(errno));
  const auto now = static_cast<uint64_t>(st.st_size);
  if (now < size_) {
    // Name the first tensor whose bytes are gone: the one a kernel would fault on.
    const uint64_t data_start = 8 + header_len_;
    const SafetensorsEntry* lost = nullptr;
    for (const auto& e : entries_)
      if (e.nbytes() > 0 && data_start + e.end > now) {
        lost = &e;
        break;
      }
    GOSSAMER_THROW(kCorruptData,
                   "{}: truncated from {} to {} bytes while mapped{}: reading the lost pages would crash the "
                   "process (SIGBUS); restore the file and restart",
                   p, size_, now,
                   lost ? fmt::format(" (tensor {} at bytes [{}, {}) is past the end)", lost->name,
                                      data_start + lost->begin, data_start + lost->end)
                        : std::string());
  }
  if (now != size_ || mtime_ns(st) != mtime_ns_)
    GOSSAMER_THROW(kCorruptData,
                   "{}: changed on disk while mapped ({} -> {} bytes, modification time moved by {} ns): the "
                   "weights in memory may mix old and new bytes; restart with a consistent checkpoint",
                   p, size_, now, mtime_ns(st) - mtime_ns_);
}

void SafetensorsFile::parse_header(const std::string& header) {
  const std::string p = path_.string();
  nlohmann::json h;
  try {
    h = nlohmann::json::parse(header);
  } catch (const nlohmann::json::exception& e) {
    GOSSAMER_THROW(kCorruptData, "{}: header is not valid JSON: {}", p, e.what());
  }
  if (!h.is_object()) GOSSAMER_THROW(kCorruptData, "{}: header is not a JSON object", p);
  const uint64_t data_size = size_ - 8 - header_len_;

  for (auto& item : h.items()) {
    // Not a structured binding: clang before 16 (the fuzz tree's compiler) cannot capture
    // one in the lambda below.
    const std::string& name = item.key();
    auto& v = item.value();
    if (name == "__metadata__") {
      if (!v.is_object()) GOSSAMER_THROW(kCorruptData, "{}: __metadata__ is not an object", p);
      for (auto& [k, mv] : v.items())
        metadata_[k] = mv.is_string() ? mv.get<std::string>() : mv.dump();
      continue;
    }
    auto bad = [&](const std::string& why) {
      GOSSAMER_THROW(kCorruptData, "{}: tensor {}: {}", p, name, why);
    };
    if (!v.is_object()) bad("header entry is not an object");
    SafetensorsEntry e;
    e.name = name;
    if (!v.contains("dtype") || !v["dtype"].is_string()) bad("missing or non-string 'dtype'");
    std::string ds = v["dtype"].get<std::string>();
    bool known = false;
    if (!parse_safetensors_dtype(ds, &e.dtype, &known)) {
      if (known) GOSSAMER_THROW(kUnsupported, "{}: tensor {}: dtype {} is not supported", p, name, ds);
      bad(fmt::format("unknown dtype \"{}\"", ds));
    }
    if (!v.contains("shape") || !v["shape"].is_array()) bad("missing or non-list 'shape'");
    uint64_t numel = 1;
    for (const auto& d : v["shape"]) {
      if (!d.is_number_integer() || d.get<int64_t>() < 0) bad(fmt::format("bad dimension {} in shape", d.dump()));
      auto dim = d.get<uint64_t>();
      if (dim != 0 && numel > std::numeric_limits<uint64_t>::max() / 16 / dim) bad("shape overflows");
      numel *= dim;
      e.shape.push_back(static_cast<int64_t>(dim));
    }
    const auto& off = v.contains("data_offsets") ? v["data_offsets"] : nlohmann::json();
    if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() || !off[1].is_number_unsigned())
      bad("'data_offsets' must be two non-negative integers");
    e.begin = off[0].get<uint64_t>();
    e.end = off[1].get<uint64_t>();
    if (e.end < e.begin) bad(fmt::format("data_offsets [{}, {}] end before begin", e.begin, e.end));
    if (e.end > data_size)
      bad(fmt::format("data_offsets [{}, {}] run past the end of the data section ({} bytes; truncated file?)",
                      e.begin, e.end, data_size));
    uint64_t want = dtype_bytes(e.dtype, numel);
    if (e.nbytes() != want)
      bad(fmt::format("data_offsets [{}, {}] hold {} bytes, but {} x {} needs {}", e.begin, e.end, e.nbytes(),
                      ds, v["shape"].dump(), want));
    entries_.push_back(std::move(e));
  }

  std::sort(entries_.begin(), entries_.end(), [](const auto& a, const auto& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  for (size_t i = 1; i < entries_.size(); ++i) {
    const auto& a = entries_[i - 1];
    const auto& b = entries_[i];
    if (b.begin < a.end && b.nbytes() > 0 && a.nbytes() > 0)
      GOSSAMER_THROW(kCorruptData, "{}: tensor {} (bytes [{}, {})) overlaps tensor {} (bytes [{}, {}))", p, b.name,
                     b.begin, b.end, a.name, a.begin, a.end);
  }
  for (size_t i = 0; i < entries_.size(); ++i) by_name_[entries_[i].name] = i;
}

const SafetensorsEntry* SafetensorsFile::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : &entries_[it->second];
}

void advise_willneed(const void* p, size_t n) {
  if (!p || n == 0) return;
  static const uintptr_t page = static_cast<uintptr_t>(::sysconf(_SC_PAGESIZE));
  uintptr_t a = reinterpret_cast<uintptr_t>(p) & ~(page - 1);
  uintptr_t e = reinterpret_cast<uintptr_t>(p) + n;
  ::madvise(reinterpret_cast<void*>(a), e - a, MADV_WILLNEED);
}

}  // namespace gossamer::model
