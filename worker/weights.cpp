// load_weights: binds a checkpoint's tensors (HF or original layout) to the engine's
// weight views for one rank's WeightSelection. Every tensor's dtype and exact shape are
// checked against the config first, so a bad checkpoint fails here with the tensor and
// file named, never later inside a kernel.
#include "worker/weights.h"

#include <cstring>

#include <fmt/ranges.h>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "model/safetensors.h"
#include "model/tensor_names.h"

namespace gossamer::worker {
namespace {

using model::CheckpointLayout;
using model::TensorInfo;

enum class Kind { kDense, kSmall, kU8 };  // dense/small: BF16 or F32; MXFP4 parts: U8

// Looks a tensor up and checks it; every message names the tensor and its file.
class Binder {
 public:
  Binder(const Checkpoint& ck, const LoadOptions& opts)
      : ck_(ck), opts_(opts) {}

  // The file as the user knows it: relative to the model directory ("original/model.safetensors").
  std::string file_of(const TensorInfo& t) const {
    auto rel = t.file.lexically_relative(ck_.dir());
    return rel.empty() || *rel.begin() == ".." ? t.file.string() : rel.string();
  }

  const TensorInfo& get(const std::string& name, Kind kind, std::vector<int64_t> shape) {
    const TensorInfo& t = ck_.get(name);
    bool ok = kind == Kind::kU8 ? t.dtype == DType::kU8 : (t.dtype == DType::kBF16 || t.dtype == DType::kF32);
    if (!ok)
      GOSSAMER_THROW(kCorruptData, "{} in {}: dtype {}, expected {}", name, file_of(t),
                     dtype_name(t.dtype), kind == Kind::kU8 ? "U8" : "BF16 or F32");
    if (t.shape != shape)
      GOSSAMER_THROW(kCorruptData, "{} in {}: shape [{}], expected [{}] from {}", name, file_of(t),
                     fmt::join(t.shape, ", "), fmt::join(shape, ", "), ck_.config_path().string());
    return t;
  }

  // Elements [first, first+count) of a BF16/F32 tensor, as f32 (norm gains, biases, sinks).
  Tensor to_f32(const TensorInfo& t, int64_t first, int64_t count) {
    Tensor out(DType::kF32, Shape{count});
    float* dst = out.as<float>();
    if (t.dtype == DType::kF32) {
      std::memcpy(dst, t.data + first * 4, static_cast<size_t>(count) * 4);
    } else {
      for (int64_t i = 0; i < count; ++i) {
        bf16 v;
        std::memcpy(&v.bits, t.data + (first + i) * 2, 2);  // the mmap gives no alignment promise
        dst[i] = bf16_to_f32(v);
      }
    }
    touched(static_cast<size_t>(count) * dtype_bytes(t.dtype, 1));
    return out;
  }

  // Rows [row0, row0+rows) of a [*, cols] matrix, columns [col0, col0+ncols).
  kernels::DenseWeight dense(const TensorInfo& t, int64_t row0, int64_t rows, int64_t col0, int64_t ncols) {
    int64_t cols = t.shape.back();
    kernels::DenseWeight w;
    size_t es = dtype_bytes(t.dtype, 1);
    w.data = t.data + (row0 * cols + col0) * static_cast<int64_t>(es);
    w.dtype = t.dtype;
    w.out = rows;
    w.in = ncols;
    w.row_stride = ncols == cols ? 0 : cols;
    prefetch(w.data, static_cast<size_t>(rows * cols) * es);
    return w;
  }

  void prefetch(const void* p, size_t n) {
    if (opts_.prefetch) model::advise_willneed(p, n);
    touched(n);
  }
  void touched(size_t n) {
    if (progress_) progress_->advance(n);
  }
  void set_progress(Progress* p) { progress_ = p; }

 private:
  const Checkpoint& ck_;
  const LoadOptions& opts_;
  Progress* progress_ = nullptr;
};

Linear make_linear(Binder& b, const TensorInfo& w, int64_t row0, int64_t rows, int64_t col0, int64_t cols,
                   const TensorInfo* bias, int64_t bias0) {
  Linear l;
  l.weight = b.dense(w, row0, rows, col0, cols);
  if (bias) l.bias = b.to_f32(*bias, bias0, rows);
  return l;
}

ExpertMatrix bind_experts(Binder& b, const std::string& blocks_name, const std::string& scales_name,
                          const std::string& bias_name, int64_t E, int64_t out, int64_t in, Range experts) {
  const int64_t nb = in / 32;
  const TensorInfo& blocks = b.get(blocks_name, Kind::kU8, {E, out, nb, 16});  // [E, out, in/32, 16]
  const TensorInfo& scales = b.get(scales_name, Kind::kU8, {E, out, nb});      // [E, out, in/32]
  const TensorInfo& bias = b.get(bias_name, Kind::kSmall, {E, out});           // [E, out]
  ExpertMatrix m;
  for (int64_t e = experts.begin; e < experts.end; ++e) {
    kernels::Mxfp4Weight w;
    w.blocks = blocks.data + e * out * nb * 16;
    w.scales = scales.data + e * out * nb;
    w.out = out;
    w.in = in;
    b.prefetch(w.blocks, static_cast<size_t>(out * nb * 16));
    b.prefetch(w.scales, static_cast<size_t>(out * nb));
    m.per_expert.push_back(w);
  }
  Tensor flat = b.to_f32(bias, experts.begin * out, experts.size() * out);
  m.bias = Tensor(DType::kF32, Shape{experts.size(), out});
  if (experts.size() > 0)
    std::memcpy(m.bias.as<float>(), flat.as<float>(), static_cast<size_t>(experts.size() * out) * 4);
  return m;
}

LayerWeights bind_layer(Binder& b, const ModelConfig& c, CheckpointLayout layout, int layer,
                        const WeightSelection& sel) {
  const auto n = model::layer_tensor_names(layout, layer);
  const int64_t H = c.hidden_size, d = c.head_dim, nq = c.num_attention_heads, nkv = c.num_key_value_heads;
  const int64_t E = c.num_local_experts, I = c.intermediate_size;
  const int64_t group = nq / nkv;  // query head j uses KV head j / group
  const int64_t q_head0 = sel.kv_heads.begin * group, q_heads = sel.kv_heads.size() * group;
  const int64_t kv_head0 = sel.kv_heads.begin, kv_heads = sel.kv_heads.size();

  LayerWeights L;
  L.layer = layer;
  L.attn_norm = b.to_f32(b.get(n.attn_norm, Kind::kSmall, {H}), 0, H);

  // q, k and v rows: separate tensors (HF) or row ranges of one fused tensor (original:
  // rows [0, nq*d) = q, then nkv*d of k, then nkv*d of v; a plain slice, no permutation).
  int64_t q_base = 0, k_base = 0, v_base = 0;
  const TensorInfo *qw, *kw, *vw, *qb, *kb, *vb;
  if (n.fused_qkv) {
    const int64_t rows = (nq + 2 * nkv) * d;
    qw = kw = vw = &b.get(n.q_weight, Kind::kDense, {rows, H});
    qb = kb = vb = c.attention_bias ? &b.get(n.q_bias, Kind::kSmall, {rows}) : nullptr;
    k_base = nq * d;
    v_base = (nq + nkv) * d;
  } else {
    qw = &b.get(n.q_weight, Kind::kDense, {nq * d, H});
    kw = &b.get(n.k_weight, Kind::kDense, {nkv * d, H});
    vw = &b.get(n.v_weight, Kind::kDense, {nkv * d, H});
    qb = c.attention_bias ? &b.get(n.q_bias, Kind::kSmall, {nq * d}) : nullptr;
    kb = c.attention_bias ? &b.get(n.k_bias, Kind::kSmall, {nkv * d}) : nullptr;
    vb = c.attention_bias ? &b.get(n.v_bias, Kind::kSmall, {nkv * d}) : nullptr;
  }
  L.q = make_linear(b, *qw, q_base + q_head0 * d, q_heads * d, 0, H, qb, q_base + q_head0 * d);
  L.k = make_linear(b, *kw, k_base + kv_head0 * d, kv_heads * d, 0, H, kb, k_base + kv_head0 * d);
  L.v = make_linear(b, *vw, v_base + kv_head0 * d, kv_heads * d, 0, H, vb, v_base + kv_head0 * d);

  // o_proj: all H rows, the columns of this rank's query heads. The bias is kept whole;
  // the row-parallel layer decides which rank adds it (once, after the all-reduce).
  const TensorInfo& ow = b.get(n.o_weight, Kind::kDense, {H, nq * d});
  const TensorInfo* ob = c.attention_bias ? &b.get(n.o_bias, Kind::kSmall, {H}) : nullptr;
  L.o = make_linear(b, ow, 0, H, q_head0 * d, q_heads * d, nullptr, 0);
  if (ob) L.o.bias = b.to_f32(*ob, 0, H);
  L.sinks = b.to_f32(b.get(n.sinks, Kind::kSmall, {nq}), q_head0, q_heads);

  L.mlp_norm = b.to_f32(b.get(n.mlp_norm, Kind::kSmall, {H}), 0, H);
  const TensorInfo& rw = b.get(n.router_weight, Kind::kDense, {E, H});
  const TensorInfo& rb = b.get(n.router_bias, Kind::kSmall, {E});
  L.router = make_linear(b, rw, 0, E, 0, H, &rb, 0);

  L.mlp1 = bind_experts(b, n.mlp1_blocks, n.mlp1_scales, n.mlp1_bias, E, 2 * I, H, sel.experts);
  L.mlp2 = bind_experts(b, n.mlp2_blocks, n.mlp2_scales, n.mlp2_bias, E, H, I, sel.experts);
  return L;
}

void check_range(const char* what, Range r, int64_t limit) {
  if (r.begin < 0 || r.end < r.begin || r.end > limit)
    GOSSAMER_THROW(kInvalidArgument, "weight selection: {} [{}, {}) is not inside [0, {})", what, r.begin, r.end,
                   limit);
}

}  // namespace

WeightSelection WeightSelection::resolved(const ModelConfig& c) const {
  WeightSelection s = *this;
  auto fill = [](Range& r, int64_t all) {
    if (r.end < 0) r.end = all;
  };
  fill(s.layers, c.num_hidden_layers);
  fill(s.kv_heads, c.num_key_value_heads);
  fill(s.experts, c.num_local_experts);
  fill(s.vocab, c.vocab_size);
  check_range("layers", s.layers, c.num_hidden_layers);
  check_range("kv_heads", s.kv_heads, c.num_key_value_heads);
  check_range("experts", s.experts, c.num_local_experts);
  check_range("vocab", s.vocab, c.vocab_size);
  return s;
}

ModelWeights load_weights(std::shared_ptr<const Checkpoint> checkpoint, const WeightSelection& selection) {
  return load_weights(std::move(checkpoint), selection, LoadOptions{});
}

ModelWeights load_weights(std::shared_ptr<const Checkpoint> checkpoint, const WeightSelection& selection,
                          const LoadOptions& options) {
  GOSSAMER_CHECK(checkpoint != nullptr, "load_weights without a checkpoint");
  const Checkpoint& ck = *checkpoint;
  const ModelConfig& c = ck.config();
  if (c.quantization.quant_method != "mxfp4")
    GOSSAMER_THROW(kUnsupported, "{}: experts must be MXFP4 (quantization_config.quant_method = \"mxfp4\"); "
                   "dequantized checkpoints are not supported", ck.config_path().string());
  ModelWeights w;
  w.config = c;
  w.selection = selection.resolved(c);
  w.checkpoint = checkpoint;
  const WeightSelection& sel = w.selection;
  const CheckpointLayout layout = ck.layout();
  const auto g = model::global_tensor_names(layout);
  const int64_t H = c.hidden_size, V = c.vocab_size;

  Binder b(ck, options);
  Progress progress("binding weights", 0, Progress::Unit::kBytes, !options.show_progress);
  b.set_progress(&progress);

  if (sel.embedding) {
    const TensorInfo& t = b.get(g.embedding, Kind::kDense, {V, H});
    w.embedding = b.dense(t, 0, V, 0, H);
  }
  for (int64_t l = sel.layers.begin; l < sel.layers.end; ++l)
    w.layers.push_back(bind_layer(b, c, layout, static_cast<int>(l), sel));
  if (sel.final_norm) {
    w.final_norm = b.to_f32(b.get(g.final_norm, Kind::kSmall, {H}), 0, H);
    // Tied checkpoints (not gpt-oss, but the config allows it) may omit lm_head.
    const std::string& un = c.tie_word_embeddings && !ck.find(g.unembedding) ? g.embedding : g.unembedding;
    const TensorInfo& t = b.get(un, Kind::kDense, {V, H});
    w.unembedding = b.dense(t, sel.vocab.begin, sel.vocab.size(), 0, H);
  }
  progress.finish();
  return w;
}

}  // namespace gossamer::worker
