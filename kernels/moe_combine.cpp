#include "kernels/moe_combine.h"

#include "core/error.h"
#include "kernels/cpu/moe_combine.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/moe.h"
#endif

namespace gossamer::kernels {

void moe_combine(const Exec& exec, float* out, const float* y, const int32_t* pair_row, const float* weights,
                 int64_t n, int k, int64_t H) {
  if (n < 0 || k <= 0 || H <= 0) GOSSAMER_THROW(kInvalidArgument, "moe_combine: n = {}, k = {}, H = {}", n, k, H);
  if (exec.device == Device::kCPU) return cpu::moe_combine(exec.threads(), out, y, pair_row, weights, n, k, H);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::moe_combine(exec.stream, out, y, pair_row, weights, n, k, H);
#endif
  unsupported_device("moe_combine", exec);
}

void moe_unpermute(const Exec& exec, float* out, const float* y, const int32_t* pair_row, int64_t pairs,
                   int64_t H) {
  if (pairs < 0 || H <= 0 || !pair_row)
    GOSSAMER_THROW(kInvalidArgument, "moe_unpermute: {} pairs, H = {} (pair_row required)", pairs, H);
  if (exec.device == Device::kCPU) return cpu::moe_unpermute(exec.threads(), out, y, pair_row, pairs, H);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::moe_unpermute(exec.stream, out, y, pair_row, pairs, H);
#endif
  unsupported_device("moe_unpermute", exec);
}

}  // namespace gossamer::kernels
