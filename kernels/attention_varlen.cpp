// Dispatch and argument checks of the batched (variable-length) attention ops. The
// checks read the index arrays on the host, so they run for the CPU backend only; they
// are what lets the fast kernel index the cache without a bounds test per key.
#include <algorithm>

#include "core/error.h"
#include "kernels/attention.h"
#include "kernels/cpu/attention_varlen.h"
#ifdef GOSSAMER_HAVE_CUDA
#include "kernels/cuda/attention.h"
#endif

namespace gossamer::kernels {
namespace {

void check_storage_and_shape(const PagedKv& kv, const AttentionShape& s, Device device, const char* op) {
  if (s.n_heads <= 0 || s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0 || s.head_dim <= 0 ||
      s.window < 0)
    GOSSAMER_THROW(kInvalidArgument, "{}: bad shape heads={} kv_heads={} head_dim={} window={}",
                   op, s.n_heads, s.n_kv_heads, s.head_dim, s.window);
  if (!kv.k || !kv.v || kv.block_size <= 0 || kv.num_blocks <= 0)
    GOSSAMER_THROW(kInvalidArgument, "{}: paged KV storage without memory or blocks", op);
  // bf16 (Precision::kFast) is a CPU case; the CUDA kernels read f32 caches only.
  const bool cpu_bf16 = kv.dtype == DType::kBF16 && device == Device::kCPU;
  if (kv.dtype != DType::kF32 && !cpu_bf16)
    GOSSAMER_THROW(kUnsupported, "{}: KV cache dtype {} on {} (f32 everywhere, bf16 on the CPU)", op,
                   dtype_name(kv.dtype), device_name(device));
}

// Every table entry the op will touch must be a real block: the rows written (each
// token's own position) and, when `reads`, every position some query of the sequence
// can see. Blocks before the first visible one may be kNoBlock.
void check_batch(const PagedKv& kv, const VarlenBatch& b, const AttentionShape& s, bool reads,
                 const char* op) {
  if (b.n_tokens < 0 || b.n_seqs < 0)
    GOSSAMER_THROW(kInvalidArgument, "{}: {} tokens in {} sequences", op, b.n_tokens, b.n_seqs);
  if (b.n_tokens == 0) return;
  if (!b.positions || !b.seq_offsets || !b.block_tables || !b.block_table_offsets)
    GOSSAMER_THROW(kInvalidArgument, "{}: missing index arrays", op);
  if (b.seq_offsets[0] != 0 || b.seq_offsets[b.n_seqs] != b.n_tokens || b.block_table_offsets[0] < 0)
    GOSSAMER_THROW(kInvalidArgument, "{}: sequence offsets must run from 0 to n_tokens={}", op, b.n_tokens);
  const int64_t bs = kv.block_size;
  for (int64_t i = 0; i < b.n_seqs; ++i) {
    const int64_t t0 = b.seq_offsets[i], t1 = b.seq_offsets[i + 1];
    const int64_t tab0 = b.block_table_offsets[i], tab1 = b.block_table_offsets[i + 1];
    if (t1 < t0 || tab1 < tab0)
      GOSSAMER_THROW(kInvalidArgument, "{}: sequence {}: offsets decrease", op, i);
    if (t0 == t1) continue;
    const int32_t* table = b.block_tables + tab0;
    const int64_t blocks = tab1 - tab0;
    auto check_block = [&](int64_t logical, int64_t pos) {
      if (logical >= blocks)
        GOSSAMER_THROW(kInvalidArgument, "{}: sequence {}: position {} beyond its block table of {} blocks",
                       op, i, pos, blocks);
      const int32_t phys = table[logical];
      if (phys < 0 || phys >= kv.num_blocks)
        GOSSAMER_THROW(kInvalidArgument,
                       "{}: sequence {}: position {} maps to KV block {} (not in [0, {})): a handed-back "
                       "or missing block", op, i, pos, phys, kv.num_blocks);
    };
    int64_t lowest = INT64_MAX, highest = -1;
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t p = b.positions[t];
      if (p < 0) GOSSAMER_THROW(kInvalidArgument, "{}: sequence {}: negative position {}", op, i, p);
      check_block(p / bs, p);
      lowest = std::min(lowest, p);
      highest = std::max(highest, p);
    }
    if (!reads) continue;
    const int64_t first_key = s.window > 0 ? std::max<int64_t>(0, lowest - s.window + 1) : 0;
    for (int64_t blk = first_key / bs; blk <= highest / bs; ++blk) check_block(blk, std::max(first_key, blk * bs));
  }
}

}  // namespace

void kv_cache_write_varlen(const Exec& exec, const PagedKv& kv, const float* k, const float* v,
                           const VarlenBatch& batch, const AttentionShape& shape) {
  check_storage_and_shape(kv, shape, exec.device, "kv_cache_write_varlen");
  if (exec.device == Device::kCPU) {
    check_batch(kv, batch, shape, /*reads=*/false, "kv_cache_write_varlen");
    return cpu::kv_cache_write_varlen(exec.threads(), kv, k, v, batch, shape);
  }
#ifdef GOSSAMER_HAVE_CUDA
  // The index arrays are on the device: cuda::kv_cache_write_varlen checks blocks per row.
  if (exec.device == Device::kCUDA) return cuda::kv_cache_write_varlen(exec.stream, kv, k, v, batch, shape);
#endif
  unsupported_device("kv_cache_write_varlen", exec);
}

void attention_varlen(const Exec& exec, float* out, const float* q, const PagedKv& kv,
                      const VarlenBatch& batch, const float* sinks, const AttentionShape& shape) {
  check_storage_and_shape(kv, shape, exec.device, "attention_varlen");
  if (exec.device == Device::kCPU) {
    if (shape.head_dim > cpu::kVarlenMaxHeadDim)
      GOSSAMER_THROW(kUnsupported, "attention_varlen: head_dim {} above the CPU kernel's {}",
                     shape.head_dim, cpu::kVarlenMaxHeadDim);
    check_batch(kv, batch, shape, /*reads=*/true, "attention_varlen");
    return cpu::attention_varlen(exec.threads(), out, q, kv, batch, sinks, shape);
  }
#ifdef GOSSAMER_HAVE_CUDA
  if (exec.device == Device::kCUDA) return cuda::attention_varlen(exec.stream, out, q, kv, batch, sinks, shape);
#endif
  unsupported_device("attention_varlen", exec);
}

}  // namespace gossamer::kernels
