// Backend-ops table entries (backend_ops.h) of the batched attention ops: the paged KV
// write and variable-length attention with sinks, sliding window and GQA, over whole steps
// (decodes, a long prefill, prefill chunks and decodes mixed, chunks after a cached prefix,
// windows with -1 table entries), on the CPU and on CUDA (test::OnDevice copies).
#include <cstring>

#include <fmt/format.h>

#include "attention_step.h"
#include "backend_ops.h"
#include "kernels/ref/attention.h"
#include "on_device.h"

namespace gossamer::kernels {
namespace {
using test::BackendOp;
using test::BackendOpRegistration;
using test::OnDevice;
using test::SeqSpec;
using test::ShapeError;
using test::Step;

struct StepCase {
  test::Shape shape;
  std::vector<SeqSpec> seqs;
};

std::vector<StepCase> cases() {
  return {
      {{8, 1, 64, 0, 16}, {{0, 1}}},                              // one decode of the first token
      {{64, 8, 64, 0, 16}, {{511, 1}, {37, 1}, {1, 1}, {200, 1}}},  // gpt-oss heads, 4 decodes
      {{8, 2, 64, 0, 16}, {{0, 600}}},                            // a long prefill
      {{8, 2, 64, 128, 16}, {{0, 300}, {300, 1}, {40, 17}}},      // window, mixed
      {{4, 4, 20, 24, 5}, {{90, 7}, {3, 1}}},                     // odd sizes, window < chunk start
      {{8, 8, 64, 0, 3}, {{5, 9}}},                               // GQA 1, blocks of 3
  };
}

// The step's index arrays on exec.device.
struct DeviceBatch {
  OnDevice<int32_t> positions, seq_offsets, tables, table_offsets;
  DeviceBatch(const Exec& exec, const Step& st)
      : positions(exec, st.positions), seq_offsets(exec, st.seq_offsets), tables(exec, st.tables),
        table_offsets(exec, st.table_offsets) {}
  VarlenBatch batch(const Step& st) {
    VarlenBatch b = st.batch();
    b.positions = positions.ptr();
    b.seq_offsets = seq_offsets.ptr();
    b.block_tables = tables.ptr();
    b.block_table_offsets = table_offsets.ptr();
    return b;
  }
};

std::string describe(const StepCase& c) {
  std::string seqs;
  for (const auto& s : c.seqs) seqs += fmt::format("{}+{} ", s.cached, s.fed);
  return fmt::format("heads {}/{} d={} window={} block={} seqs {}", c.shape.n_heads, c.shape.n_kv_heads,
                     c.shape.head_dim, c.shape.window, c.shape.block_size, seqs);
}

const BackendOpRegistration kKvWrite{BackendOp{
    "kv_cache_write_varlen", 0, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      uint32_t seed = 100;
      for (const auto& c : cases()) {
        const Step st(c.shape, c.seqs, seed++);
        const auto sh = test::attention_shape(c.shape);
        auto k_ref = st.k_cache, v_ref = st.v_cache;
        OnDevice<float> dk(exec, st.k_cache), dv(exec, st.v_cache), dk_new(exec, st.k_new), dv_new(exec, st.v_new);
        DeviceBatch db(exec, st);
        PagedKv kv = st.kv(k_ref, v_ref);
        kv.k = dk.ptr();
        kv.v = dv.ptr();
        kv_cache_write_varlen(exec, kv, dk_new.ptr(), dv_new.ptr(), db.batch(st), sh);
        const auto k = dk.host(), v = dv.host();
        ref::kv_cache_write_varlen(st.kv(k_ref, v_ref), st.k_new.data(), st.v_new.data(), st.batch(), sh);
        // NaN marks unwritten rows in both: compare bit patterns, not values.
        const bool same = std::memcmp(k.data(), k_ref.data(), k.size() * sizeof(float)) == 0 &&
                          std::memcmp(v.data(), v_ref.data(), v.size() * sizeof(float)) == 0;
        errs.push_back({describe(c), same ? 0.0 : test::kMismatch});
      }
      return errs;
    }}};

const BackendOpRegistration kAttention{BackendOp{
    "attention_varlen", 1e-5, {Device::kCPU, Device::kCUDA}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      uint32_t seed = 200;
      for (const auto& c : cases()) {
        Step st(c.shape, c.seqs, seed++);
        const auto sh = test::attention_shape(c.shape);
        ref::kv_cache_write_varlen(st.kv(st.k_cache, st.v_cache), st.k_new.data(), st.v_new.data(), st.batch(), sh);
        std::vector<float> want(st.q.size());
        OnDevice<float> dk(exec, st.k_cache), dv(exec, st.v_cache), dq(exec, st.q), dsinks(exec, st.sinks),
            dout(exec, st.q.size());
        DeviceBatch db(exec, st);
        PagedKv kv = st.kv(st.k_cache, st.v_cache);
        kv.k = dk.ptr();
        kv.v = dv.ptr();
        attention_varlen(exec, dout.ptr(), dq.ptr(), kv, db.batch(st), dsinks.ptr(), sh);
        const auto out = dout.host();
        ref::attention_varlen(want.data(), st.q.data(), st.kv(st.k_cache, st.v_cache), st.batch(), st.sinks.data(),
                              sh);
        errs.push_back({describe(c), test::rel_err(out, want)});
      }
      return errs;
    }}};

// The bf16 cache of Precision::kFast (CPU only; CUDA keeps f32 caches): the write must
// equal the oracle's rounding bit for bit, attention the oracle reading the same bf16
// cache within the f32 bound (test_attention_bf16_kv.cpp checks the bf16 rounding bound
// against the f32 cache).
std::vector<uint16_t> bf16_bits(const std::vector<float>& f) {
  std::vector<uint16_t> b(f.size());
  for (size_t i = 0; i < f.size(); ++i) b[i] = f32_to_bf16(f[i]).bits;
  return b;
}

const BackendOpRegistration kKvWriteBf16{BackendOp{
    "kv_cache_write_varlen_bf16", 0, {Device::kCPU}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      uint32_t seed = 300;
      for (const auto& c : cases()) {
        const Step st(c.shape, c.seqs, seed++);
        const auto sh = test::attention_shape(c.shape);
        auto k = bf16_bits(st.k_cache), v = bf16_bits(st.v_cache), k_ref = k, v_ref = v;
        kv_cache_write_varlen(exec, PagedKv{k.data(), v.data(), DType::kBF16, st.num_blocks, c.shape.block_size},
                              st.k_new.data(), st.v_new.data(), st.batch(), sh);
        ref::kv_cache_write_varlen(PagedKv{k_ref.data(), v_ref.data(), DType::kBF16, st.num_blocks, c.shape.block_size},
                                   st.k_new.data(), st.v_new.data(), st.batch(), sh);
        errs.push_back({describe(c), k == k_ref && v == v_ref ? 0.0 : test::kMismatch});
      }
      return errs;
    }}};

const BackendOpRegistration kAttentionBf16{BackendOp{
    "attention_varlen_bf16_kv", 1e-5, {Device::kCPU}, [](const Exec& exec) {
      std::vector<ShapeError> errs;
      uint32_t seed = 400;
      for (const auto& c : cases()) {
        const Step st(c.shape, c.seqs, seed++);
        const auto sh = test::attention_shape(c.shape);
        auto k = bf16_bits(st.k_cache), v = bf16_bits(st.v_cache);
        const PagedKv kv{k.data(), v.data(), DType::kBF16, st.num_blocks, c.shape.block_size};
        ref::kv_cache_write_varlen(kv, st.k_new.data(), st.v_new.data(), st.batch(), sh);
        std::vector<float> out(st.q.size()), want(st.q.size());
        attention_varlen(exec, out.data(), st.q.data(), kv, st.batch(), st.sinks.data(), sh);
        ref::attention_varlen(want.data(), st.q.data(), kv, st.batch(), st.sinks.data(), sh);
        errs.push_back({describe(c), test::rel_err(out, want)});
      }
      return errs;
    }}};

}  // namespace
}  // namespace gossamer::kernels
