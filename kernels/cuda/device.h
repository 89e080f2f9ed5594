#pragma once
// CUDA runtime glue that host code may call without including CUDA headers: device
// memory for core/buffer.h, copies and synchronization for tests and the worker.
// Only present when the CUDA backend is built (GOSSAMER_HAVE_CUDA).
#include <cstddef>

namespace gossamer::kernels::cuda {

// Registers cudaMalloc/cudaFree with core/buffer.h so Buffer(bytes, Device::kCUDA) works.
// Idempotent; cuda_device_count() calls it when it finds a GPU.
void register_allocator();

void copy_to_device(void* dst, const void* src, size_t bytes);
void copy_to_host(void* dst, const void* src, size_t bytes);
void synchronize(void* stream /*cudaStream_t or null*/);

}  // namespace gossamer::kernels::cuda
