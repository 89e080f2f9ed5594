#include "kernels/cuda/device.h"

#include <mutex>

#include "core/buffer.h"
#include "kernels/cuda/check.cuh"
#include "kernels/exec.h"

namespace gossamer::kernels {
namespace cuda {
namespace {
void* device_alloc(size_t bytes) {
  void* p = nullptr;
  check(cudaMalloc(&p, bytes), "cudaMalloc");
  return p;
}
void device_free(void* p) { cudaFree(p); }  // destructors must not throw
}  // namespace

void register_allocator() {
  static std::once_flag once;
  std::call_once(once, [] { register_device_allocator(Device::kCUDA, {device_alloc, device_free}); });
}

void copy_to_device(void* dst, const void* src, size_t bytes) {
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyHostToDevice), "cudaMemcpy H2D");
}
void copy_to_host(void* dst, const void* src, size_t bytes) {
  check(cudaMemcpy(dst, src, bytes, cudaMemcpyDeviceToHost), "cudaMemcpy D2H");
}
void synchronize(void* stream) { check(cudaStreamSynchronize(as_stream(stream)), "synchronize"); }

}  // namespace cuda

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // no driver / no device: clear the sticky error, report none
    return 0;
  }
  if (n > 0) cuda::register_allocator();
  return n;
}

}  // namespace gossamer::kernels
