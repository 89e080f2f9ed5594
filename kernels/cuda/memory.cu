// Device memory helpers (kernels/cuda/memory.h): thin checked wrappers over the runtime.
#include <algorithm>
#include <cstdlib>
#include <initializer_list>
#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/memory.h"

namespace gossamer::kernels::cuda {
namespace {
void check_sized(cudaError_t err, const char* what, size_t bytes) {
  if (err != cudaSuccess)
    throw ::gossamer::Error(::gossamer::ErrorCode::kInternal, std::string("CUDA ") + what + " of " +
                                                                  std::to_string(bytes) + " bytes: " +
                                                                  cudaGetErrorString(err));
}
}  // namespace

void set_device(int ordinal) { check(cudaSetDevice(ordinal), "cudaSetDevice"); }

int current_device() {
  int d = 0;
  check(cudaGetDevice(&d), "cudaGetDevice");
  return d;
}

const char* device_name() {
  static thread_local cudaDeviceProp prop;
  check(cudaGetDeviceProperties(&prop, current_device()), "cudaGetDeviceProperties");
  return prop.name;
}

namespace {
// The first of `names` that is set to a number, else -1.
int env_int(std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (const char* v = std::getenv(name); v && *v) return std::atoi(v);
  return -1;
}
}  // namespace

int select_gpu_for_local_rank(bool share_gpus) {
  int gpus = 0;
  if (cudaGetDeviceCount(&gpus) != cudaSuccess || gpus == 0) {
    cudaGetLastError();
    throw Error(ErrorCode::kInternal, "no CUDA GPU is visible to this rank (check the driver, nvidia-smi and "
                                      "CUDA_VISIBLE_DEVICES)");
  }
  const int local_rank = std::max(0, env_int({"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"}));
  const int local_size =
      std::max(local_rank + 1, env_int({"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}));
  if (local_size > gpus && !share_gpus)
    throw Error(ErrorCode::kUnsupported,
                "this node runs " + std::to_string(local_size) + " ranks (this one is local rank " +
                    std::to_string(local_rank) + ") but sees only " + std::to_string(gpus) +
                    " GPU(s): one GPU per rank is required (run at most " + std::to_string(gpus) +
                    " ranks per node, or use the staged MPI communicator to test multi-rank layouts on one GPU)");
  const int gpu = local_rank % gpus;
  set_device(gpu);
  return gpu;
}

MemoryInfo memory_info() {
  MemoryInfo info;
  check(cudaMemGetInfo(&info.free_bytes, &info.total_bytes), "cudaMemGetInfo");
  return info;
}

void* device_malloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  check_sized(cudaMalloc(&p, bytes), "cudaMalloc", bytes);
  return p;
}
void device_free(void* p) noexcept {
  if (p) cudaFree(p);
}
void* pinned_malloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = nullptr;
  check_sized(cudaMallocHost(&p, bytes), "cudaMallocHost", bytes);
  return p;
}
void pinned_free(void* p) noexcept {
  if (p) cudaFreeHost(p);
}

void copy_h2d_async(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes) check_sized(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, as_stream(stream)), "copy H2D", bytes);
}
void copy_d2h_async(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes) check_sized(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, as_stream(stream)), "copy D2H", bytes);
}
void copy_d2d_async(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes)
    check_sized(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, as_stream(stream)), "copy D2D", bytes);
}
void memset_async(void* dst, int byte_value, size_t bytes, void* stream) {
  if (bytes) check_sized(cudaMemsetAsync(dst, byte_value, bytes, as_stream(stream)), "memset", bytes);
}

void* stream_create() {
  cudaStream_t s = nullptr;
  check(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking), "cudaStreamCreate");
  return s;
}
void stream_destroy(void* stream) noexcept {
  if (stream) cudaStreamDestroy(as_stream(stream));
}

}  // namespace gossamer::kernels::cuda
