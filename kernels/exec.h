#pragma once
// Where a kernel runs. Every kernel entry point takes an Exec: the device its pointers
// live on (kernels never guess) plus the CPU thread pool or the CUDA stream.
#include <cstddef>
#include <string>

#include "core/dtype.h"
#include "core/thread_pool.h"

namespace gossamer::kernels {

// How exactly a kernel computes. kExact: fp32 activations and accumulation with weights
// decoded exactly (the golden fp32 tier). kFast: a kernel may round activations to bf16 or
// quantise them to int8 per block and keep the KV cache in bf16 (the golden bf16 tier);
// kernels without a faster variant run their exact code. kAuto is a request only (the
// configuration's default): the device's own tier, exact on the CPU and fast on CUDA, whose
// GEMMs take bf16 inputs. An Exec from open_device never holds kAuto.
enum class Precision { kAuto, kExact, kFast };

struct Exec {
  Device device = Device::kCPU;
  ThreadPool* pool = nullptr;  // CPU: nullptr means ThreadPool::global()
  void* stream = nullptr;      // CUDA: a cudaStream_t (nullptr = default stream)
  Precision precision = Precision::kExact;

  ThreadPool& threads() const { return pool ? *pool : ThreadPool::global(); }
  bool fast() const { return precision == Precision::kFast; }
  static Exec cpu(ThreadPool* pool = nullptr, Precision precision = Precision::kExact) {
    return Exec{Device::kCPU, pool, nullptr, precision};
  }
};

// The Exec a rank runs its forward pass on, for the device its configuration asks for
// (`runtime.device`). Never falls back silently: a device this build lacks, that is not
// present, or that the forward pass cannot run on yet is a start-up error (kUnsupported)
// that says which, so a GPU config never quietly runs on the CPU.
// CUDA: selects this rank's GPU by local rank (kernels/cuda/memory.h,
// select_gpu_for_local_rank; share_gpus lets ranks share GPUs, for the staged
// communicator), creates the rank's stream (Exec::stream, never destroyed: kernels and
// communicators of the rank use it until the process ends) and logs the GPU's name.
// `precision` goes through resolve_precision (a refusal is thrown before any GPU is touched).
Exec open_device(Device device, ThreadPool* pool, bool share_gpus = false, Precision precision = Precision::kAuto);

// kAuto -> kExact on the CPU, kFast on CUDA. kExact on CUDA is refused (kUnsupported): the
// CUDA kernels have no fp32-activation path, and a config asking for the fp32 tier must not
// quietly get the bf16 one.
Precision resolve_precision(Precision requested, Device device);

// Copies between two buffers on exec's device (memcpy on the CPU; an asynchronous
// device-to-device copy ordered on exec's stream on CUDA).
void copy_on_device(const Exec& exec, void* dst, const void* src, size_t bytes);
// Copies a buffer on exec's device to host memory and returns when it is there (CUDA:
// after the stream's earlier work).
void copy_to_host(const Exec& exec, void* dst, const void* src, size_t bytes);

// Device memory of the current GPU (cudaMemGetInfo; zeros in builds without CUDA or
// without a GPU). in_use = total - free counts every process on the GPU.
struct DeviceMemory {
  size_t total_bytes = 0;
  size_t free_bytes = 0;
  size_t in_use() const { return total_bytes - free_bytes; }
};
DeviceMemory device_memory();

// "cpu" / "cuda" -> Device; kInvalidArgument naming the accepted values otherwise.
Device parse_device(const std::string& name);

// "auto" / "exact" / "fast" -> Precision; kInvalidArgument naming the accepted values otherwise.
Precision parse_precision(const std::string& name);
const char* precision_name(Precision precision);

// Throws kUnsupported naming the op when `exec` asks for a backend that is not built.
[[noreturn]] void unsupported_device(const char* op, const Exec& exec);

// Number of CUDA devices visible to this process; 0 when the CUDA backend is not built,
// no driver is installed or no GPU is present. Never throws. (Tests skip on 0.)
int cuda_device_count();

}  // namespace gossamer::kernels
