#include "kernels/router.h"

#include "core/error.h"
#include "kernels/cpu/router.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/moe.h"
#endif

namespace gossamer::kernels {

void router_topk_softmax(const Exec& exec, const float* logits, int64_t n, int n_experts, int k,
                         int32_t* experts, float* weights) {
  if (k <= 0 || k > n_experts)
    GOSSAMER_THROW(kInvalidArgument, "router_topk_softmax: k = {} of {} experts", k, n_experts);
  if (exec.device == Device::kCPU)
    return cpu::router_topk_softmax(exec.threads(), logits, n, n_experts, k, experts, weights);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA)
    return cuda::router_topk_softmax(exec.stream, logits, n, n_experts, k, experts, weights);
#endif
  unsupported_device("router_topk_softmax", exec);
}

}  // namespace gossamer::kernels
