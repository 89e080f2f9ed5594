#include "worker/parallel_ops.h"

#include "comm/communicator.h"
#include "kernels/linear.h"
#include "worker/mapping.h"

namespace gossamer::worker {

void row_parallel_linear(const LayerContext& ctx, float* y, const float* x, int64_t n,
                         const Linear& w) {
  if (!ctx.tp_split()) {
    kernels::linear(ctx.exec, y, x, n, w.weight, w.bias_ptr());
    return;
  }
  // Each TP rank holds a column slice of W: partial products sum to the full product.
  // The bias joins the sum once (added on every rank it would count tp times).
  const float* bias = ctx.mapping->adds_row_parallel_bias() ? w.bias_ptr() : nullptr;
  kernels::linear(ctx.exec, y, x, n, w.weight, bias);
  ctx.tp->all_reduce_sum(y, static_cast<size_t>(n * w.weight.out), ctx.exec.device);
}

void gather_token_shares(const LayerContext& ctx, float* data, int64_t n, int64_t width, float* send,
                         GroupCounts& group_counts) {
  if (!ctx.tp_split()) return;
  const int size = ctx.tp->size();
  const auto counts = counts_of(group_counts.rows, size);
  for (int r = 0; r < size; ++r)
    counts[static_cast<size_t>(r)] = static_cast<size_t>(ctx.mapping->token_share_of_tp_rank(n, r).size() * width);
  const Range mine = ctx.mapping->token_share(n);
  // all_gatherv needs distinct send and receive buffers.
  const auto count = static_cast<size_t>(mine.size() * width);
  kernels::copy_on_device(ctx.exec, send, data + mine.begin * width, sizeof(float) * count);
  ctx.tp->all_gatherv(send, count, data, counts, {}, DType::kF32, ctx.exec.device);
}

}  // namespace gossamer::worker
