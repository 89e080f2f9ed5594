#pragma once
// Device memory for the worker: weights, KV pool and workspace uploads, pinned host
// staging buffers. Host code includes this header without the CUDA headers; it exists
// only when the CUDA backend is built (GOSSAMER_HAVE_CUDA). Every failure throws
// gossamer::Error(kInternal) naming the call and the size; frees never throw.
//
// Streams are passed as void* (a cudaStream_t; nullptr = the legacy default stream), as
// in kernels/exec.h. The *_async copies are ordered on that stream; a copy from or to
// pageable host memory may return before it completes only when the host side is pinned
// (PinnedBuffer), so keep host sources alive until synchronize(stream).
#include <cstddef>

namespace gossamer::kernels::cuda {

// ---- devices ---------------------------------------------------------------------------
// Makes `ordinal` the current device of the calling thread (every later allocation,
// stream and kernel of this thread goes there).
void set_device(int ordinal);
int current_device();
// Name of the current device, e.g. "NVIDIA H200".
const char* device_name();

// One GPU per rank: picks the GPU of this rank's index on its node — the launcher's
// local rank (OMPI_COMM_WORLD_LOCAL_RANK, else MPI_LOCALRANKID, SLURM_LOCALID; 0 when
// none is set) — makes it current and returns it. Throws kUnsupported, naming the counts,
// when the node runs more ranks (OMPI_COMM_WORLD_LOCAL_SIZE / SLURM_NTASKS_PER_NODE, or
// local rank + 1) than it has visible GPUs: NCCL refuses two ranks on one GPU (use the
// staged MPI communicator for multi-rank layouts on one GPU); kInternal when no GPU is
// visible at all. share_gpus: ranks beyond the GPU count share them round robin (local
// rank % GPUs), for the staged MPI communicator only.
int select_gpu_for_local_rank(bool share_gpus = false);

// Free and total memory of the current device, in bytes (cudaMemGetInfo).
struct MemoryInfo {
  size_t free_bytes = 0;
  size_t total_bytes = 0;
};
MemoryInfo memory_info();

// ---- raw allocations -------------------------------------------------------------------
void* device_malloc(size_t bytes);       // 256-byte aligned; bytes == 0 returns nullptr
void device_free(void* p) noexcept;      // nullptr is fine
void* pinned_malloc(size_t bytes);       // page-locked host memory (cudaMallocHost)
void pinned_free(void* p) noexcept;

// ---- copies and fills --------------------------------------------------------------------
void copy_h2d_async(void* dst, const void* src, size_t bytes, void* stream);
void copy_d2h_async(void* dst, const void* src, size_t bytes, void* stream);
void copy_d2d_async(void* dst, const void* src, size_t bytes, void* stream);
void memset_async(void* dst, int byte_value, size_t bytes, void* stream);

// ---- streams -------------------------------------------------------------------------------
void* stream_create();                   // a non-blocking stream of the current device
void stream_destroy(void* stream) noexcept;

// ---- owners --------------------------------------------------------------------------------
// Device memory owned by one object (core/buffer.h's Buffer(bytes, Device::kCUDA) is the
// same thing for code that already uses Buffer).
class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  explicit DeviceBuffer(size_t bytes) : data_(device_malloc(bytes)), bytes_(bytes) {}
  ~DeviceBuffer() { device_free(data_); }
  DeviceBuffer(DeviceBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_) { o.data_ = nullptr, o.bytes_ = 0; }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      device_free(data_);
      data_ = o.data_, bytes_ = o.bytes_;
      o.data_ = nullptr, o.bytes_ = 0;
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void* data() const { return data_; }
  size_t size() const { return bytes_; }
  template <typename T>
  T* as() const { return static_cast<T*>(data_); }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

// Page-locked host memory: the staging area for asynchronous uploads and for
// communicators that move device buffers over a host transport.
class PinnedBuffer {
 public:
  PinnedBuffer() = default;
  explicit PinnedBuffer(size_t bytes) : data_(pinned_malloc(bytes)), bytes_(bytes) {}
  ~PinnedBuffer() { pinned_free(data_); }
  PinnedBuffer(PinnedBuffer&& o) noexcept : data_(o.data_), bytes_(o.bytes_) { o.data_ = nullptr, o.bytes_ = 0; }
  PinnedBuffer& operator=(PinnedBuffer&& o) noexcept {
    if (this != &o) {
      pinned_free(data_);
      data_ = o.data_, bytes_ = o.bytes_;
      o.data_ = nullptr, o.bytes_ = 0;
    }
    return *this;
  }
  PinnedBuffer(const PinnedBuffer&) = delete;
  PinnedBuffer& operator=(const PinnedBuffer&) = delete;
  // Grows (never shrinks) to at least `bytes`; the old contents are dropped.
  void reserve(size_t bytes) {
    if (bytes > bytes_) *this = PinnedBuffer(bytes);
  }
  void* data() const { return data_; }
  size_t size() const { return bytes_; }

 private:
  void* data_ = nullptr;
  size_t bytes_ = 0;
};

}  // namespace gossamer::kernels::cuda
