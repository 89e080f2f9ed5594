// Device memory bandwidth of this GPU, the denominator of the decode roofline
// (bench/gpu/run.sh): a device-to-device cudaMemcpy (bytes read + bytes written per
// second, the "device copy" figure) and a read-only kernel (what weight streaming needs).
// Best of 20 runs over 1 GiB buffers. Prints one JSON line; exits 1 on any CUDA error.
//   nvcc -O2 -o copy_bandwidth bench/gpu/copy_bandwidth.cu && ./copy_bandwidth
#include <cuda_runtime.h>

#include <cstdio>

#define CHECK(call)                                                                   \
  do {                                                                                \
    cudaError_t err_ = (call);                                                        \
    if (err_ != cudaSuccess) {                                                        \
      std::fprintf(stderr, "copy_bandwidth: %s: %s\n", #call, cudaGetErrorString(err_)); \
      return 1;                                                                       \
    }                                                                                 \
  } while (0)

// Sums 16-byte loads so the compiler cannot drop them; one write per thread.
__global__ void read_all(const uint4* src, size_t n, unsigned* sink) {
  unsigned acc = 0;
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    const uint4 v = src[i];
    acc ^= v.x ^ v.y ^ v.z ^ v.w;
  }
  if (acc == 0x12345678u) *sink = acc;  // practically never taken
}

int main() {
  const size_t bytes = size_t(1) << 30;
  const int runs = 20;
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  void *a = nullptr, *b = nullptr;
  unsigned* sink = nullptr;
  CHECK(cudaMalloc(&a, bytes));
  CHECK(cudaMalloc(&b, bytes));
  CHECK(cudaMalloc(&sink, sizeof(unsigned)));
  CHECK(cudaMemset(a, 1, bytes));
  CHECK(cudaMemset(b, 2, bytes));
  cudaEvent_t start, stop;
  CHECK(cudaEventCreate(&start));
  CHECK(cudaEventCreate(&stop));
  float best_copy = 1e30f, best_read = 1e30f;
  for (int r = 0; r < runs; ++r) {
    CHECK(cudaEventRecord(start));
    CHECK(cudaMemcpy(b, a, bytes, cudaMemcpyDeviceToDevice));
    CHECK(cudaEventRecord(stop));
    CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (ms < best_copy) best_copy = ms;

    CHECK(cudaEventRecord(start));
    read_all<<<prop.multiProcessorCount * 8, 512>>>(static_cast<const uint4*>(a), bytes / sizeof(uint4), sink);
    CHECK(cudaGetLastError());
    CHECK(cudaEventRecord(stop));
    CHECK(cudaEventSynchronize(stop));
    CHECK(cudaEventElapsedTime(&ms, start, stop));
    if (ms < best_read) best_read = ms;
  }
  const double copy_gbps = 2.0 * double(bytes) / (best_copy * 1e-3) / 1e9;
  const double read_gbps = double(bytes) / (best_read * 1e-3) / 1e9;
  std::printf("{\"gpu\": \"%s\", \"memory_bytes\": %zu, \"copy_GBps\": %.1f, \"read_GBps\": %.1f}\n", prop.name,
              prop.totalGlobalMem, copy_gbps, read_gbps);
  return 0;
}
