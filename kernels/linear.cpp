#include "kernels/linear.h"

#include "core/error.h"
#include "kernels/cpu/linear.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/linear.h"
#endif

namespace gossamer::kernels {
namespace {
void check_dense(const DenseWeight& w, const char* op) {
  if (w.dtype != DType::kBF16 && w.dtype != DType::kF32)
    GOSSAMER_THROW(kUnsupported, "{}: weight dtype {} (want bf16 or f32)", op, dtype_name(w.dtype));
  if (w.out < 0 || w.in < 0 || w.stride() < w.in)
    GOSSAMER_THROW(kInvalidArgument, "{}: bad weight shape [{}, {}] row_stride {}", op, w.out,
                   w.in, w.row_stride);
}
}  // namespace

void linear(const Exec& exec, float* y, const float* x, int64_t n, const DenseWeight& w,
            const float* bias) {
  check_dense(w, "linear");
  if (exec.device == Device::kCPU) return cpu::linear(exec.threads(), y, x, n, w, bias, exec.precision);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::linear(exec.stream, y, x, n, w, bias);
#endif
  unsupported_device("linear", exec);
}

void embedding_lookup(const Exec& exec, float* out, const DenseWeight& table, const int32_t* ids,
                      int64_t n) {
  check_dense(table, "embedding_lookup");
  if (exec.device == Device::kCPU) {
    for (int64_t i = 0; i < n; ++i)
      if (ids[i] < 0 || ids[i] >= table.out)
        GOSSAMER_THROW(kInvalidArgument, "embedding_lookup: id {} outside [0, {})", ids[i], table.out);
    return cpu::embedding_lookup(exec.threads(), out, table, ids, n);
  }
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::embedding_lookup(exec.stream, out, table, ids, n);
#endif
  unsupported_device("embedding_lookup", exec);
}

}  // namespace gossamer::kernels
