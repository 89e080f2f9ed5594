#include "worker/parallel_ops.h"

#include "kernels/linear.h"

namespace gossamer::worker {

void row_parallel_linear(const LayerContext& ctx, float* y, const float* x, int64_t n,
                         const Linear& w) {
  // TODO(distributed): with ctx.tp of size > 1, the bias is added on TP rank 0 only and
  // y is all-reduced over ctx.tp.
  kernels::linear(ctx.exec, y, x, n, w.weight, w.bias_ptr());
}

}  // namespace gossamer::worker
