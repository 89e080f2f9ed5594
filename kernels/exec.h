#pragma once
// Where a kernel runs. Every kernel entry point takes an Exec: the device its pointers
// live on (kernels never guess) plus the CPU thread pool or the CUDA stream.
#include <string>

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

// The Exec a rank runs its forward pass on, for the device its configuration asks for
// (`runtime.device`). Never falls back silently: a device this build lacks, that is not
// present, or that the forward pass cannot run on yet is a start-up error (kUnsupported)
// that says which, so a GPU config never quietly runs on the CPU.
Exec open_device(Device device, ThreadPool* pool);

// "cpu" / "cuda" -> Device; kInvalidArgument naming the accepted values otherwise.
Device parse_device(const std::string& name);

// Throws kUnsupported naming the op when `exec` asks for a backend that is not built.
[[noreturn]] void unsupported_device(const char* op, const Exec& exec);

// Number of CUDA devices visible to this process; 0 when the CUDA backend is not built,
// no driver is installed or no GPU is present. Never throws. (Tests skip on 0.)
int cuda_device_count();

}  // namespace gossamer::kernels
