#include "worker/packed_experts.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace gossamer::worker {
namespace {

namespace fs = std::filesystem;

// The header: magic, key length (decimal, newline), the key. Data starts 2 MB in, so the
// packed bytes can sit on 2 MB pages of the page cache where the kernel allows.
constexpr uint64_t kHeaderBytes = uint64_t{2} << 20;
constexpr char kMagic[] = "GOSSAMER-PACKED-EXPERTS-1\n";
// Free space left on the cache's file system after the file, or the file is not made.
constexpr uint64_t kFreeMarginBytes = uint64_t{1} << 30;

std::string header_of(const std::string& key) { return std::string(kMagic) + std::to_string(key.size()) + "\n" + key; }

uint64_t fnv1a64(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
  return h;
}

// "" when caching is off.
fs::path cache_dir() {
  if (const char* d = std::getenv("GOSSAMER_CACHE_DIR"); d && *d) return std::string(d) == "off" ? fs::path() : fs::path(d);
  if (const char* x = std::getenv("XDG_CACHE_HOME"); x && *x) return fs::path(x) / "gossamer";
  if (const char* h = std::getenv("HOME"); h && *h) return fs::path(h) / ".cache" / "gossamer";
  return {};
}

// The "file" lines of a key: path -> the rest (size, mtime, inode).
std::map<std::string, std::string> file_lines(const std::string& key) {
  std::map<std::string, std::string> out;
  size_t at = 0;
  while (at < key.size()) {
    const size_t end = std::min(key.find('\n', at), key.size());
    const std::string line = key.substr(at, end - at);
    at = end + 1;
    if (line.rfind("file ", 0) != 0) continue;
    // "file <path> <size> <mtime> <inode>": the path may hold spaces, the last three do not.
    size_t cut = line.size();
    for (int i = 0; i < 3 && cut != std::string::npos && cut > 0; ++i) cut = line.rfind(' ', cut - 1);
    if (cut == std::string::npos || cut <= 5) continue;
    out[line.substr(5, cut - 5)] = line.substr(cut + 1);
  }
  return out;
}

// The key stored in a cache file's header ("" if it has none).
std::string stored_key(const fs::path& file) {
  std::FILE* f = std::fopen(file.c_str(), "rb");
  if (!f) return {};
  std::string head(64 * 1024, '\0');
  head.resize(std::fread(head.data(), 1, head.size(), f));
  std::fclose(f);
  if (head.rfind(kMagic, 0) != 0) return {};
  const size_t nl = head.find('\n', sizeof kMagic - 1);
  if (nl == std::string::npos) return {};
  return head.substr(nl + 1);  // as much of the key as the first 64 KB hold: the file lines lead
}

// Deletes cache files made for an earlier state of the same checkpoint files (same paths,
// another size, mtime or inode): nothing can use them any more. Files of other slices or
// other checkpoints stay. A process still mapping a deleted file keeps its pages.
void remove_stale(const fs::path& dir, const std::string& key, const fs::path& keep) {
  const auto mine = file_lines(key);
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const fs::path p = entry.path();
    const std::string name = p.filename().string();
    if (p == keep || name.rfind("packed-experts-", 0) != 0 || p.extension() != ".bin") continue;
    const auto theirs = file_lines(stored_key(p));
    if (theirs.empty() || theirs.size() != mine.size()) continue;
    bool same_paths = true, changed = false;
    for (const auto& [path, stats] : mine) {
      const auto it = theirs.find(path);
      if (it == theirs.end()) same_paths = false;
      else if (it->second != stats) changed = true;
    }
    if (same_paths && changed && fs::remove(p, ec))
      spdlog::info("packed experts: removed {} (made for an earlier state of the same checkpoint)", p.string());
  }
}

}  // namespace

std::string packed_experts_key(const ModelWeights& weights) {
  std::string key = "gossamer packed experts v1: groups of 16 rows, e2m1 codes in 32-byte chunks, e8m0 scales\n";
  if (!weights.checkpoint) return key + "no checkpoint\n";
  for (const auto& f : weights.checkpoint->files()) {
    struct stat st {};
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(f, ec);
    if (::stat(f.c_str(), &st) != 0) return key + "unreadable " + f.string() + "\n";
    key += fmt::format("file {} {} {}.{:09d} {}\n", (ec ? f : canonical).string(), st.st_size,
                       static_cast<long long>(st.st_mtim.tv_sec), st.st_mtim.tv_nsec, st.st_ino);
  }
  // Each expert view as (tensor, byte offset): the tensors sorted by address for lookup.
  std::vector<const model::TensorInfo*> tensors;
  for (const auto& t : weights.checkpoint->tensors()) tensors.push_back(&t);
  std::sort(tensors.begin(), tensors.end(), [](auto* a, auto* b) { return a->data < b->data; });
  auto locate = [&](const uint8_t* p) {
    auto it = std::upper_bound(tensors.begin(), tensors.end(), p, [](const uint8_t* v, auto* t) { return v < t->data; });
    if (it == tensors.begin() || p >= (*(it - 1))->data + (*(it - 1))->nbytes) return std::string("unmapped");
    return fmt::format("{}+{}", (*(it - 1))->name, p - (*(it - 1))->data);
  };
  for (const auto& layer : weights.layers)
    for (const ExpertMatrix* m : {&layer.mlp1, &layer.mlp2})
      for (const auto& w : m->per_expert)
        key += fmt::format("{} {} {} {}x{}/{}\n", layer.layer, locate(w.blocks), locate(w.scales), w.out, w.in,
                           w.stride());
  return key;
}

std::shared_ptr<PackedExpertStore> PackedExpertStore::open(const ModelWeights& weights, uint64_t bytes) {
  std::shared_ptr<PackedExpertStore> s(new PackedExpertStore);
  auto in_memory = [&](const std::string& why) {
    s->memory_ = Buffer(static_cast<size_t>(bytes));
    s->data_ = s->memory_.as<uint8_t>();
    s->where_ = "memory (" + why + ")";
    return s;
  };
  const fs::path dir = cache_dir();
  if (dir.empty()) return in_memory("no cache directory: GOSSAMER_CACHE_DIR=off or no HOME");
  const std::string key = packed_experts_key(weights);
  if (!weights.checkpoint || key.find("unmapped") != std::string::npos || key.find("unreadable") != std::string::npos)
    return in_memory("the weights are not all views of checkpoint files");
  const std::string header = header_of(key);
  if (header.size() > kHeaderBytes) return in_memory("key longer than the header");
  const fs::path path = dir / fmt::format("packed-experts-{:016x}.bin", fnv1a64(key));
  const uint64_t file_bytes = kHeaderBytes + bytes;

  // An earlier start's file, if it is whole and for the same key.
  if (int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    struct stat st {};
    void* map = MAP_FAILED;
    if (::fstat(fd, &st) == 0 && static_cast<uint64_t>(st.st_size) == file_bytes)
      map = ::mmap(nullptr, file_bytes, PROT_READ, MAP_SHARED, fd, 0);
    if (map != MAP_FAILED && std::memcmp(map, header.data(), header.size()) == 0) {
      s->attach(map, file_bytes, fd);
      s->ready_ = true;
      s->where_ = path.string();
      return s;
    }
    if (map != MAP_FAILED) ::munmap(map, file_bytes);
    ::close(fd);
    spdlog::info("packed experts: {} is stale or partial; packing again", path.string());
  }

  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return in_memory(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return in_memory(fmt::format("statvfs {}: {}", dir.string(), std::strerror(errno)));
  const uint64_t free_bytes = uint64_t{vfs.f_bavail} * vfs.f_frsize;
  if (free_bytes < file_bytes + kFreeMarginBytes)
    return in_memory(fmt::format("{:.1f} GB free in {}, {:.1f} GB needed", free_bytes / 1e9, dir.string(),
                                 (file_bytes + kFreeMarginBytes) / 1e9));
  const std::string tmp = path.string() + fmt::format(".tmp.{}", ::getpid());
  const int fd = ::open(tmp.c_str(), O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return in_memory(fmt::format("cannot write {}: {}", tmp, std::strerror(errno)));
  auto give_up = [&](const std::string& why) {
    ::close(fd);
    ::unlink(tmp.c_str());
    return in_memory(why);
  };
  // Reserve the blocks now: a full disk then fails here, not as SIGBUS inside the packer.
  if (int rc = ::posix_fallocate(fd, 0, static_cast<off_t>(file_bytes)); rc != 0)
    return give_up(fmt::format("cannot reserve {:.1f} GB in {}: {}", file_bytes / 1e9, dir.string(), std::strerror(rc)));
  void* map = ::mmap(nullptr, file_bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (map == MAP_FAILED) return give_up(fmt::format("cannot map {}: {}", tmp, std::strerror(errno)));
  s->attach(map, file_bytes, fd);
  s->tmp_path_ = tmp;
  s->final_path_ = path.string();
  s->where_ = path.string() + " (new)";
  s->header_ = header;  // written by commit(), after the data
  s->key_ = key;
  return s;
}

void PackedExpertStore::attach(void* map, uint64_t bytes, int fd) {
  map_ = map;
  map_bytes_ = bytes;
  fd_ = fd;
  data_ = static_cast<uint8_t*>(map) + kHeaderBytes;
}

void PackedExpertStore::commit() {
  if (ready_ || tmp_path_.empty()) return;
  // Data first, synced; then the header, synced; then the name. A crash at any point leaves
  // either no file under the final name or a whole one.
  if (::fdatasync(fd_) != 0) {
    spdlog::warn("packed experts: sync of {} failed ({}); not kept for later starts", tmp_path_, std::strerror(errno));
    return;
  }
  std::memcpy(map_, header_.data(), header_.size());
  if (::msync(map_, kHeaderBytes, MS_SYNC) != 0 || ::rename(tmp_path_.c_str(), final_path_.c_str()) != 0) {
    spdlog::warn("packed experts: could not keep {} ({})", final_path_, std::strerror(errno));
    return;
  }
  tmp_path_.clear();
  ready_ = true;
  remove_stale(fs::path(final_path_).parent_path(), key_, final_path_);
  where_ = final_path_ + " (written now)";
}

PackedExpertStore::~PackedExpertStore() {
  if (map_) ::munmap(map_, map_bytes_);
  if (fd_ >= 0) ::close(fd_);
  if (!tmp_path_.empty()) ::unlink(tmp_path_.c_str());
}

}  // namespace gossamer::worker
