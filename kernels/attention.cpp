#include "kernels/attention.h"

#include "core/error.h"
#include "kernels/cpu/attention.h"

namespace gossamer::kernels {
namespace {
void check_shape(const AttentionShape& s, const KvCacheView& kv, const char* op) {
  if (s.n_heads <= 0 || s.n_kv_heads <= 0 || s.n_heads % s.n_kv_heads != 0 || s.head_dim <= 0 ||
      s.window < 0)
    GOSSAMER_THROW(kInvalidArgument, "{}: bad shape heads={} kv_heads={} head_dim={} window={}",
                   op, s.n_heads, s.n_kv_heads, s.head_dim, s.window);
  if (kv.block_size <= 0 || !kv.block_table || !kv.k || !kv.v)
    GOSSAMER_THROW(kInvalidArgument, "{}: KV cache view without storage or block table", op);
}
}  // namespace

void kv_cache_write(const Exec& exec, const KvCacheView& kv, const float* k, const float* v,
                    const int32_t* pos, int64_t nt, const AttentionShape& shape) {
  check_shape(shape, kv, "kv_cache_write");
  if (exec.device == Device::kCPU) return cpu::kv_cache_write(exec.threads(), kv, k, v, pos, nt, shape);
  unsupported_device("kv_cache_write", exec);
}

void attention_sink(const Exec& exec, float* out, const float* q, const int32_t* q_pos,
                    int64_t nt, const KvCacheView& kv, const float* sinks,
                    const AttentionShape& shape) {
  check_shape(shape, kv, "attention_sink");
  if (exec.device == Device::kCPU)
    return cpu::attention_sink(exec.threads(), out, q, q_pos, nt, kv, sinks, shape);
  unsupported_device("attention_sink", exec);
}

}  // namespace gossamer::kernels
