#pragma once
// Where the expert weights repacked for the int8 kernels live (precision fast, AVX-512 VNNI
// or the AVX2 path: the same bytes; the layout is kernels/cpu/mxfp4_int8.h's).
//
// Why a cache file: packing 12 GB on every start means allocating 12 GB of fresh anonymous
// memory, which the kernel must zero first (on the 2-vCPU VM of docs/PERFORMANCE.md that
// alone took 13-24 s per start). The packed bytes depend only on the checkpoint files and
// on which slices of them this rank holds, so the first start writes them to a file and
// later starts map that file read-only: a warm start then costs what mapping the stored
// weights cost, and the page cache holds the packed experts instead of the stored ones.
//
// The file: <cache dir>/packed-experts-<hash>.bin, a 2 MB header (magic, then the key in
// full, so a hash collision or a changed checkpoint is caught) and the packed bytes. The
// key names every checkpoint file (path, size, mtime, inode) and, for each expert matrix
// in order, its tensors, byte offsets, shape and stride. Written to a temporary name,
// synced, then renamed, so a reader never sees a partial file; then files made for an
// earlier state of the same checkpoint files (same paths, other size/mtime/inode) are
// deleted, so rewriting a checkpoint does not leave 10 GB files behind.
// Cache dir: $GOSSAMER_CACHE_DIR, else $XDG_CACHE_HOME/gossamer, else ~/.cache/gossamer;
// GOSSAMER_CACHE_DIR=off, an unwritable directory or too little free disk space keeps the
// packed copy in memory instead (packed on every start; the log says why).
#include <cstdint>
#include <memory>
#include <string>

#include "core/buffer.h"
#include "worker/weights.h"

namespace gossamer::worker {

class PackedExpertStore {
 public:
  // `bytes` of packed experts for these weights (their checkpoint and selection).
  static std::shared_ptr<PackedExpertStore> open(const ModelWeights& weights, uint64_t bytes);
  ~PackedExpertStore();
  PackedExpertStore(const PackedExpertStore&) = delete;
  PackedExpertStore& operator=(const PackedExpertStore&) = delete;

  uint8_t* data() const { return data_; }
  // True: data() already holds the packed experts (a cache file from an earlier start).
  // False: the caller packs into data(), then calls commit().
  bool ready() const { return ready_; }
  // Makes a freshly packed cache file visible to later starts (no-op in memory).
  void commit();
  // For the load log: the cache file, or "memory (why)".
  const std::string& where() const { return where_; }

 private:
  PackedExpertStore() = default;
  // Takes the cache file's mapping (header + data) and descriptor.
  void attach(void* map, uint64_t bytes, int fd);
  uint8_t* data_ = nullptr;
  bool ready_ = false;
  std::string where_;
  Buffer memory_;               // the in-memory fallback
  void* map_ = nullptr;         // the cache file's mapping (header + data)
  uint64_t map_bytes_ = 0;
  int fd_ = -1;
  std::string tmp_path_, final_path_, header_, key_;
};

// The key of a rank's packed experts (exposed for tests).
std::string packed_experts_key(const ModelWeights& weights);

}  // namespace gossamer::worker
