#pragma once
// Where a kernel runs. Every kernel entry point takes an Exec: the device its pointers
// live on (kernels never guess) plus the CPU thread pool or the CUDA stream.
#include "core/dtype.h"
#include "core/thread_pool.h"

namespace gossamer::kernels {

struct Exec {
  Device device = Device::kCPU;
  ThreadPool* pool = nullptr;  // CPU: nullptr means ThreadPool::global()
  void* stream = nullptr;      // CUDA: a cudaStream_t (nullptr = default stream)

  ThreadPool& threads() const { return pool ? *pool : ThreadPool::global(); }
  static Exec cpu(ThreadPool* pool = nullptr) { return Exec{Device::kCPU, pool, nullptr}; }
};

// Throws kUnsupported naming the op when `exec` asks for a backend that is not built.
[[noreturn]] void unsupported_device(const char* op, const Exec& exec);

// Number of CUDA devices visible to this process; 0 when the CUDA backend is not built,
// no driver is installed or no GPU is present. Never throws. (Tests skip on 0.)
int cuda_device_count();

}  // namespace gossamer::kernels
