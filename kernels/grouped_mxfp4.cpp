#include "kernels/grouped_mxfp4.h"

#include "core/error.h"
#include "core/mxfp4.h"
#include "kernels/cpu/grouped_mxfp4.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/mxfp4.h"
#endif

namespace gossamer::kernels {
namespace {

// The offsets are read only when they live on the host (`host_offsets`): a CUDA caller's
// offsets come from the device permutation.
void check(const char* op, const ExpertGroups& g, const Mxfp4Weight* w, bool swiglu, bool host_offsets) {
  if (g.groups < 0 || (g.groups > 0 && (!g.offsets || !w)))
    GOSSAMER_THROW(kInvalidArgument, "{}: {} groups without offsets or weights", op, g.groups);
  for (int64_t e = 0; e < g.groups; ++e) {
    if (w[e].out != w[0].out || w[e].in != w[0].in)
      GOSSAMER_THROW(kInvalidArgument, "{}: expert {} is [{}, {}], expert 0 [{}, {}]", op, e, w[e].out, w[e].in,
                     w[0].out, w[0].in);
    if (w[e].in % kMxfp4BlockSize != 0 || w[e].stride() < w[e].in / kMxfp4BlockSize)
      GOSSAMER_THROW(kInvalidArgument, "{}: in = {} must be a multiple of 32", op, w[e].in);
    if (host_offsets && g.offsets[e + 1] < g.offsets[e]) GOSSAMER_THROW(kInvalidArgument, "{}: offsets decrease at {}", op, e);
  }
  if (swiglu && g.groups > 0 && w[0].out % 2 != 0)
    GOSSAMER_THROW(kInvalidArgument, "{}: out = {} must be even (gate/linear pairs)", op, w[0].out);
}

}  // namespace

void grouped_mxfp4_linear(const Exec& exec, float* y, const float* x, const ExpertGroups& groups,
                          const Mxfp4Weight* weights, const float* bias) {
  check("grouped_mxfp4_linear", groups, weights, false, exec.device == Device::kCPU);
  if (exec.device == Device::kCPU)
    return cpu::grouped_mxfp4(exec.threads(), y, x, groups, weights, bias, nullptr, true, exec.precision);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::grouped_mxfp4(exec.stream, y, x, groups, weights, bias, nullptr);
#endif
  unsupported_device("grouped_mxfp4_linear", exec);
}

void grouped_mxfp4_swiglu(const Exec& exec, float* y, const float* x, const ExpertGroups& groups,
                          const Mxfp4Weight* weights, const float* bias, float alpha, float limit) {
  check("grouped_mxfp4_swiglu", groups, weights, true, exec.device == Device::kCPU);
  const cpu::SwigluEpilogue swiglu{alpha, limit};
  if (exec.device == Device::kCPU)
    return cpu::grouped_mxfp4(exec.threads(), y, x, groups, weights, bias, &swiglu, true, exec.precision);
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) {
    const cuda::SwigluParams params{alpha, limit};
    return cuda::grouped_mxfp4(exec.stream, y, x, groups, weights, bias, &params);
  }
#endif
  unsupported_device("grouped_mxfp4_swiglu", exec);
}

}  // namespace gossamer::kernels
