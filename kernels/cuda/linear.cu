// Dense linear layer on CUDA: a GEMV kernel for the few rows of decode, cuBLAS for more.
#include <cublas_v2.h>

#include <string>

#include "kernels/cuda/check.cuh"
#include "kernels/cuda/linear.h"
#include "kernels/cuda/reduce.cuh"

namespace gossamer::kernels::cuda {
namespace {

constexpr int kGemvMaxRows = 8;
constexpr int kGemvWarps = 8;  // output rows per block

// y[t, o] = Σ_c x[t, c] · W[o, c] + bias[o] for t < n <= 8: warp `o` of the block walks
// row o of W once and applies it to all n rows of x. `Weight` is unsigned short (bf16
// bits) or float. Vectorised (8 bf16 = 16 bytes per load) when `vec8` says every row
// and x are 16-byte aligned.
template <typename Weight>
__global__ void gemv_rows(float* y, const float* x, long long n, const Weight* w, long long out, long long in,
                          long long stride, const float* bias, bool vec8) {
  const long long o = (long long)blockIdx.x * kGemvWarps + (threadIdx.x >> 5);
  const int lane = threadIdx.x & 31;
  if (o >= out) return;  // whole warp leaves together: no block-level sync below
  const Weight* wr = w + o * stride;
  float acc[kGemvMaxRows];
#pragma unroll
  for (int t = 0; t < kGemvMaxRows; ++t) acc[t] = 0.f;
  long long c0 = 0;
  if constexpr (sizeof(Weight) == 2) {
    if (vec8) {
      const long long chunks = in / 8;
      for (long long ch = lane; ch < chunks; ch += 32) {
        const uint4 raw = reinterpret_cast<const uint4*>(wr)[ch];
        const unsigned words[4] = {raw.x, raw.y, raw.z, raw.w};
        float wv[8];
#pragma unroll
        for (int j = 0; j < 4; ++j) {
          wv[2 * j] = __uint_as_float(words[j] << 16);
          wv[2 * j + 1] = __uint_as_float(words[j] & 0xffff0000u);
        }
#pragma unroll
        for (int t = 0; t < kGemvMaxRows; ++t) {
          if (t >= n) break;
          const float4* xr = reinterpret_cast<const float4*>(x + t * in) + 2 * ch;
          const float4 a = xr[0], b = xr[1];
          acc[t] += a.x * wv[0] + a.y * wv[1] + a.z * wv[2] + a.w * wv[3] + b.x * wv[4] + b.y * wv[5] +
                    b.z * wv[6] + b.w * wv[7];
        }
      }
      c0 = chunks * 8;
    }
  }
  for (long long c = c0 + lane; c < in; c += 32) {
    float wv;
    if constexpr (sizeof(Weight) == 2)
      wv = bf16_to_f32(wr[c]);
    else
      wv = wr[c];
#pragma unroll
    for (int t = 0; t < kGemvMaxRows; ++t) {
      if (t >= n) break;
      acc[t] += x[t * in + c] * wv;
    }
  }
  const float b = bias ? bias[o] : 0.f;
#pragma unroll
  for (int t = 0; t < kGemvMaxRows; ++t) {
    if (t >= n) break;
    const float s = warp_sum(acc[t]);
    if (lane == 0) y[t * out + o] = s + b;
  }
}

__global__ void f32_to_bf16(unsigned short* dst, const float* src, long long count) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < count; i += (long long)gridDim.x * blockDim.x) {
    const unsigned u = __float_as_uint(src[i]);
    // Round to nearest even; NaN stays NaN (quiet bit kept by the truncation).
    const unsigned rounded = (u & 0x7fffffffu) > 0x7f800000u ? (u | 0x00400000u) : u + 0x7fffu + ((u >> 16) & 1u);
    dst[i] = (unsigned short)(rounded >> 16);
  }
}

__global__ void add_bias_rows(float* y, const float* bias, long long n, long long out) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n * out; i += (long long)gridDim.x * blockDim.x)
    y[i] += bias[i % out];
}

template <typename Weight>
__global__ void gather_rows(float* dst, const Weight* table, long long rows, long long dim, long long stride,
                            const int* ids, long long n) {
  for (long long i = blockIdx.x * (long long)blockDim.x + threadIdx.x; i < n * dim; i += (long long)gridDim.x * blockDim.x) {
    const long long t = i / dim, c = i % dim;
    const long long id = ids[t];
    if (id < 0 || id >= rows) {
      dst[i] = __int_as_float(0x7fc00000);  // NaN: see linear.h
      continue;
    }
    if constexpr (sizeof(Weight) == 2)
      dst[i] = bf16_to_f32(table[id * stride + c]);
    else
      dst[i] = table[id * stride + c];
  }
}

void check_blas(cublasStatus_t st, const char* what) {
  if (st != CUBLAS_STATUS_SUCCESS)
    throw ::gossamer::Error(::gossamer::ErrorCode::kInternal,
                            std::string("cuBLAS ") + what + ": status " + std::to_string(int(st)));
}

// One handle per thread (a handle is not thread-safe); the stream is set per call.
cublasHandle_t blas_handle(cudaStream_t stream) {
  static thread_local cublasHandle_t handle = nullptr;
  if (!handle) check_blas(cublasCreate(&handle), "cublasCreate");
  check_blas(cublasSetStream(handle, stream), "cublasSetStream");
  return handle;
}

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// Column-major view: y[n, out] row-major is Yᵀ [out, n]; Yᵀ = W · xᵀ with W stored
// row-major [out, stride] = column-major [stride, out], hence op(A) = T.
void gemm_cublas(cudaStream_t s, float* y, const float* x, int64_t n, const DenseWeight& w) {
  cublasHandle_t h = blas_handle(s);
  const float one = 1.f, zero = 0.f;
  if (w.dtype == DType::kF32) {
    check_blas(cublasSgemm(h, CUBLAS_OP_T, CUBLAS_OP_N, int(w.out), int(n), int(w.in), &one,
                           static_cast<const float*>(w.data), int(w.stride()), x, int(w.in), &zero, y, int(w.out)),
               "cublasSgemm");
    return;
  }
  void* xb = nullptr;
  const size_t count = size_t(n) * size_t(w.in);
  check(cudaMallocAsync(&xb, count * 2, s), "cudaMallocAsync (bf16 activations)");
  f32_to_bf16<<<blocks_for((long long)count, 256), 256, 0, s>>>(static_cast<unsigned short*>(xb), x, (long long)count);
  check(cudaGetLastError(), "f32_to_bf16 launch");
  const cublasStatus_t st =
      cublasGemmEx(h, CUBLAS_OP_T, CUBLAS_OP_N, int(w.out), int(n), int(w.in), &one, w.data, CUDA_R_16BF,
                   int(w.stride()), xb, CUDA_R_16BF, int(w.in), &zero, y, CUDA_R_32F, int(w.out), CUBLAS_COMPUTE_32F,
                   CUBLAS_GEMM_DEFAULT);
  cudaFreeAsync(xb, s);
  check_blas(st, "cublasGemmEx bf16");
}

}  // namespace

void linear(void* stream, float* y, const float* x, int64_t n, const DenseWeight& w, const float* bias) {
  if (n <= 0 || w.out == 0) return;
  const cudaStream_t s = as_stream(stream);
  if (n <= kGemvMaxRows) {
    const unsigned blocks = unsigned((w.out + kGemvWarps - 1) / kGemvWarps);
    if (w.dtype == DType::kBF16) {
      const bool vec8 = w.in % 8 == 0 && w.stride() % 8 == 0 && aligned16(w.data) && aligned16(x);
      gemv_rows<unsigned short><<<blocks, kGemvWarps * 32, 0, s>>>(
          y, x, n, static_cast<const unsigned short*>(w.data), w.out, w.in, w.stride(), bias, vec8);
    } else {
      gemv_rows<float><<<blocks, kGemvWarps * 32, 0, s>>>(y, x, n, static_cast<const float*>(w.data), w.out, w.in,
                                                          w.stride(), bias, false);
    }
    check(cudaGetLastError(), "gemv_rows launch");
    return;
  }
  gemm_cublas(s, y, x, n, w);
  if (bias) {
    add_bias_rows<<<blocks_for(n * w.out, 256), 256, 0, s>>>(y, bias, n, w.out);
    check(cudaGetLastError(), "add_bias_rows launch");
  }
}

void embedding_lookup(void* stream, float* out, const DenseWeight& table, const int32_t* ids, int64_t n) {
  if (n <= 0 || table.in == 0) return;
  const cudaStream_t s = as_stream(stream);
  const int blocks = blocks_for(n * table.in, 256);
  if (table.dtype == DType::kBF16)
    gather_rows<unsigned short><<<blocks, 256, 0, s>>>(out, static_cast<const unsigned short*>(table.data), table.out,
                                                       table.in, table.stride(), ids, n);
  else
    gather_rows<float><<<blocks, 256, 0, s>>>(out, static_cast<const float*>(table.data), table.out, table.in,
                                              table.stride(), ids, n);
  check(cudaGetLastError(), "gather_rows launch");
}

}  // namespace gossamer::kernels::cuda
