#include "kernels/exec.h"

#include "core/error.h"
#include "core/log.h"
#include <cstring>

#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/device.h"
#include "kernels/cuda/memory.h"
#endif

namespace gossamer::kernels {

void unsupported_device(const char* op, const Exec& exec) {
  GOSSAMER_THROW(kUnsupported, "kernel '{}' has no {} implementation in this build", op,
                 device_name(exec.device));
}

void copy_on_device(const Exec& exec, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  if (exec.device == Device::kCPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::copy_d2d_async(dst, src, bytes, exec.stream);
#endif
  unsupported_device("copy_on_device", exec);
}

void copy_to_host(const Exec& exec, void* dst, const void* src, size_t bytes) {
  if (bytes == 0) return;
  if (exec.device == Device::kCPU) {
    std::memcpy(dst, src, bytes);
    return;
  }
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) {
    cuda::copy_d2h_async(dst, src, bytes, exec.stream);
    cuda::synchronize(exec.stream);
    return;
  }
#endif
  unsupported_device("copy_to_host", exec);
}

DeviceMemory device_memory() {
  DeviceMemory m;
#ifdef GOSSAMER_HAVE_CUDA
  if (cuda_device_count() == 0) return m;
  const auto info = cuda::memory_info();
  m.total_bytes = info.total_bytes;
  m.free_bytes = info.free_bytes;
#endif
  return m;
}

Device parse_device(const std::string& name) {
  if (name == "cpu") return Device::kCPU;
  if (name == "cuda") return Device::kCUDA;
  GOSSAMER_THROW(kInvalidArgument, "device '{}' is not one of cpu, cuda", name);
}

Precision parse_precision(const std::string& name) {
  if (name == "auto") return Precision::kAuto;
  if (name == "exact") return Precision::kExact;
  if (name == "fast") return Precision::kFast;
  GOSSAMER_THROW(kInvalidArgument, "precision '{}' is not one of auto, exact, fast", name);
}

const char* precision_name(Precision precision) {
  switch (precision) {
    case Precision::kAuto: return "auto";
    case Precision::kExact: return "exact";
    case Precision::kFast: return "fast";
  }
  return "?";
}

Precision resolve_precision(Precision requested, Device device) {
  if (device == Device::kCPU) return requested == Precision::kAuto ? Precision::kExact : requested;
  if (requested == Precision::kExact)
    GOSSAMER_THROW(kUnsupported,
                   "runtime.precision is exact, but the {} kernels have no fp32-activation path (their "
                   "GEMMs take bf16 inputs: the golden bf16 tier); use precision: fast or auto on {}, or "
                   "device: cpu for the fp32 tier",
                   device_name(device), device_name(device));
  return Precision::kFast;
}

Exec open_device(Device device, ThreadPool* pool, bool share_gpus, Precision precision) {
  if (device == Device::kCPU) return Exec::cpu(pool, resolve_precision(precision, device));
#ifndef GOSSAMER_HAVE_CUDA
  (void)share_gpus, (void)precision;
  GOSSAMER_THROW(kUnsupported,
                 "runtime.device is cuda, but this build has no CUDA backend (it is compiled when "
                 "CMake finds nvcc); use device: cpu or rebuild on a machine with the CUDA toolkit");
#else
  const Precision resolved = resolve_precision(precision, device);
  const int gpus = cuda_device_count();
  if (gpus == 0)
    GOSSAMER_THROW(kUnsupported,
                   "runtime.device is cuda, but no CUDA GPU is visible to this process (check the "
                   "driver, nvidia-smi and CUDA_VISIBLE_DEVICES)");
  // One GPU per rank by local rank; a node with more ranks than GPUs is an error unless
  // the ranks share GPUs through the staged communicator (NCCL refuses shared GPUs).
  const int gpu = cuda::select_gpu_for_local_rank(share_gpus);
  Exec exec;
  exec.device = Device::kCUDA;
  exec.pool = pool;
  exec.stream = cuda::stream_create();  // the rank's one stream; lives as long as the process
  exec.precision = resolved;
  GLOG_INFO("runtime.device is cuda: GPU {} ({}) of {} visible", gpu, cuda::device_name(), gpus);
  return exec;
#endif
}

}  // namespace gossamer::kernels

#ifndef GOSSAMER_HAVE_CUDA
namespace gossamer::kernels {
// Without the CUDA backend there is nothing to count; kernels/cuda/device.cu defines it
// otherwise.
int cuda_device_count() { return 0; }
}  // namespace gossamer::kernels
#endif
