#include "kernels/moe_permute.h"

#include "core/error.h"
#include "kernels/cpu/moe_permute.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/moe.h"
#endif

namespace gossamer::kernels {

int64_t moe_permute(const Exec& exec, const int32_t* experts, int64_t n, int k, ExpertRange local,
                    const MoePermutation& out, const float* x, int64_t H) {
  if (n < 0 || k <= 0 || local.count < 0 || !out.offsets || !out.row_token)
    GOSSAMER_THROW(kInvalidArgument, "moe_permute: n = {}, k = {}, {} local experts (offsets and row_token required)",
                   n, k, local.count);
  if (out.gathered && (!x || H <= 0)) GOSSAMER_THROW(kInvalidArgument, "moe_permute: gathering needs x and H");
  if (exec.device == Device::kCPU) return cpu::moe_permute(exec.threads(), experts, n, k, local, out, x, H);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::moe_permute(exec.stream, experts, n, k, local, out, x, H);
#endif
  unsupported_device("moe_permute", exec);
}

}  // namespace gossamer::kernels
