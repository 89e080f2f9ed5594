#include "model/synth.h"

#include <cmath>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/log.h"
#include "core/progress.h"
#include "core/thread_pool.h"
#include "core/timer.h"
#include "model/mxfp4.h"
#include "model/safetensors_writer.h"
#include "model/tensor_names.h"

namespace gossamer::model {
namespace fs = std::filesystem;

namespace {

uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001b3ull;
  return h;
}

// xoshiro256** seeded through splitmix64; one stream per (tensor, row).
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& v : s_) v = splitmix64(seed);
  }
  uint64_t next() {
    uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Approximately N(0, 1): Irwin-Hall sum of four 16-bit uniforms, rescaled. Bounded at
  // ±3.46σ, which is all synthetic weights need, and one RNG call per value (the 20b
  // preset draws ~20 G values).
  float normal() {
    uint64_t r = next();
    float s = static_cast<float>((r & 0xffff) + ((r >> 16) & 0xffff) + ((r >> 32) & 0xffff) + (r >> 48));
    return (s * (1.0f / 65536.0f) - 2.0f) * 1.7320508f;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// How a tensor's values are drawn: mean + std * N(0,1).
struct Dist {
  float mean = 0, std = 0.02f;
};

// A tensor to write: dense (BF16) values, or the blocks/scales pair of an MXFP4 matrix.
struct Planned {
  TensorSpec spec;
  Dist dist;
  enum { kDense, kMxfp4Blocks, kMxfp4Scales } kind = kDense;
  int shard = 0;
};

uint64_t row_seed(uint64_t seed, const std::string& name, int64_t row) {
  uint64_t x = seed ^ fnv1a(name);
  splitmix64(x);
  x ^= static_cast<uint64_t>(row) * 0xd1b54a32d192ed03ull;
  return splitmix64(x);
}

std::vector<Planned> plan_tensors(const ModelConfig& c) {
  const int64_t H = c.hidden_size, V = c.vocab_size, d = c.head_dim, nq = c.num_attention_heads;
  const int64_t nkv = c.num_key_value_heads, E = c.num_local_experts, I = c.intermediate_size;
  std::vector<Planned> p;
  auto dense = [&](const std::string& name, std::vector<int64_t> shape, Dist dist) {
    p.push_back({{name, DType::kBF16, std::move(shape)}, dist});
  };
  auto experts = [&](const std::string& blocks, const std::string& scales, int64_t out, int64_t in) {
    // The scales tensor directly follows its blocks: both come from one quantization pass.
    Planned b{{blocks, DType::kU8, {E, out, in / 32, 16}}, Dist{0, 0.02f}, Planned::kMxfp4Blocks};
    Planned s{{scales, DType::kU8, {E, out, in / 32}}, Dist{}, Planned::kMxfp4Scales};
    p.push_back(b);
    p.push_back(s);
  };
  const Dist w{0, 0.02f}, norm{1.0f, 0.02f}, bias{0, 0.02f};
  const auto g = global_tensor_names(CheckpointLayout::kHF);
  dense(g.embedding, {V, H}, w);
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const auto n = layer_tensor_names(CheckpointLayout::kHF, l);
    dense(n.attn_norm, {H}, norm);
    dense(n.q_weight, {nq * d, H}, w);
    dense(n.k_weight, {nkv * d, H}, w);
    dense(n.v_weight, {nkv * d, H}, w);
    dense(n.q_bias, {nq * d}, bias);
    dense(n.k_bias, {nkv * d}, bias);
    dense(n.v_bias, {nkv * d}, bias);
    dense(n.o_weight, {H, nq * d}, w);
    dense(n.o_bias, {H}, bias);
    dense(n.sinks, {nq}, Dist{0, 1.0f});
    dense(n.mlp_norm, {H}, norm);
    // Normed inputs have unit RMS, so std 1/sqrt(H) gives router logits of std ~1: the
    // top-k varies from token to token instead of always picking the same experts.
    dense(n.router_weight, {E, H}, Dist{0, 1.0f / std::sqrt(static_cast<float>(H))});
    dense(n.router_bias, {E}, Dist{0, 0.1f});
    experts(n.mlp1_blocks, n.mlp1_scales, 2 * I, H);
    dense(n.mlp1_bias, {E, 2 * I}, bias);
    experts(n.mlp2_blocks, n.mlp2_scales, H, I);
    dense(n.mlp2_bias, {E, H}, bias);
  }
  dense(g.final_norm, {H}, norm);
  dense(g.unembedding, {V, H}, w);
  return p;
}

// Packs tensors into shards of about `target` bytes, in order; an MXFP4 blocks/scales
// pair stays in one shard (one is generated with the other). Returns the shard count.
int assign_shards(std::vector<Planned>& p, uint64_t target) {
  int shard = 0;
  uint64_t used = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    uint64_t n = p[i].spec.nbytes();
    if (p[i].kind == Planned::kMxfp4Blocks) n += p[i + 1].spec.nbytes();
    if (p[i].kind == Planned::kMxfp4Scales) {
      p[i].shard = shard;
      continue;
    }
    if (used > 0 && used + n > target) {
      ++shard;
      used = 0;
    }
    p[i].shard = shard;
    used += n;
  }
  return shard + 1;
}

class TensorGenerator {
 public:
  TensorGenerator(uint64_t seed, ThreadPool& pool, Progress& progress)
      : seed_(seed), pool_(pool), progress_(progress) {}

  // Rows of a BF16 tensor ([rows, cols], 1-D tensors are one row), in batches of ~16 MB.
  void dense(const Planned& t, SafetensorsWriter& w) {
    const auto& s = t.spec.shape;
    int64_t cols = s.back(), rows = 1;
    for (size_t i = 0; i + 1 < s.size(); ++i) rows *= s[i];
    int64_t batch = std::max<int64_t>(1, (int64_t{8} << 20) / cols);
    std::vector<bf16> buf(static_cast<size_t>(std::min(rows, batch) * cols));
    for (int64_t r0 = 0; r0 < rows; r0 += batch) {
      int64_t nr = std::min(batch, rows - r0);
      pool_.parallel_for(nr, 16, [&](int64_t a, int64_t b) {
        for (int64_t r = a; r < b; ++r) {
          Rng rng(row_seed(seed_, t.spec.name, r0 + r));
          bf16* out = buf.data() + r * cols;
          for (int64_t c = 0; c < cols; ++c) out[c] = f32_to_bf16(t.dist.mean + t.dist.std * rng.normal());
        }
      });
      size_t n = static_cast<size_t>(nr * cols) * sizeof(bf16);
      w.append(t.spec.name, buf.data(), n);
      progress_.advance(n);
    }
  }

  // An MXFP4 matrix [E, out, in]: blocks expert by expert, then all scales (1/16 the size).
  void mxfp4(const Planned& blocks, const Planned& scales, SafetensorsWriter& w) {
    const auto& s = blocks.spec.shape;  // [E, out, in/32, 16]
    const int64_t E = s[0], out = s[1], nb = s[2], in = nb * 32;
    std::vector<uint8_t> bbuf(static_cast<size_t>(out * nb * 16));
    std::vector<uint8_t> sbuf(static_cast<size_t>(E * out * nb));
    for (int64_t e = 0; e < E; ++e) {
      pool_.parallel_for(out, 8, [&](int64_t a, int64_t b) {
        std::vector<float> row(static_cast<size_t>(in));
        for (int64_t r = a; r < b; ++r) {
          Rng rng(row_seed(seed_, blocks.spec.name, e * out + r));
          for (auto& v : row) v = blocks.dist.mean + blocks.dist.std * rng.normal();
          mxfp4_quantize_row(row.data(), in, bbuf.data() + r * nb * 16, sbuf.data() + (e * out + r) * nb);
        }
      });
      w.append(blocks.spec.name, bbuf.data(), bbuf.size());
      progress_.advance(bbuf.size());
    }
    w.append(scales.spec.name, sbuf.data(), sbuf.size());
    progress_.advance(sbuf.size());
  }

 private:
  uint64_t seed_;
  ThreadPool& pool_;
  Progress& progress_;
};

void write_json(const fs::path& path, const nlohmann::json& j) {
  fs::path tmp = path;
  tmp += ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << j.dump(2) << "\n";
    if (!out) GOSSAMER_THROW(kIo, "{}: write failed", tmp.string());
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) GOSSAMER_THROW(kIo, "{}: rename failed: {}", path.string(), ec.message());
}

// Clears a previous checkpoint (only the files a checkpoint consists of).
void prepare_dir(const fs::path& dir, bool overwrite) {
  fs::create_directories(dir);
  bool existing = fs::exists(dir / "config.json") || fs::exists(dir / "model.safetensors.index.json");
  if (existing && !overwrite)
    GOSSAMER_THROW(kInvalidArgument, "{}: already holds a checkpoint (pass overwrite / --force to replace it)",
                   dir.string());
  for (const auto& entry : fs::directory_iterator(dir)) {
    std::string f = entry.path().filename().string();
    bool ours = f == "config.json" || f == "generation_config.json" || f == "model.safetensors.index.json" ||
                (f.rfind("model-", 0) == 0 && f.find(".safetensors") != std::string::npos);
    if (ours) fs::remove(entry.path());
  }
}

}  // namespace

std::vector<std::string> synth_preset_names() { return {"tiny", "gpt-oss-20b", "gpt-oss-120b"}; }

std::vector<int> synth_preset_generation_eos(const std::string& name) {
  if (name == "gpt-oss-20b" || name == "gpt-oss-120b") return {200002, 199999, 200012};
  return {};
}

ModelConfig synth_preset(const std::string& name, int layers) {
  ModelConfig c;
  c.head_dim = 64;
  c.num_experts_per_tok = 4;
  c.quantization.quant_method = "mxfp4";
  c.quantization.modules_to_not_convert = {"model.layers.*.self_attn", "model.layers.*.mlp.router",
                                           "model.embed_tokens", "lm_head"};
  if (name == "tiny") {  // tests/data/tiny/model/config.json
    c.num_hidden_layers = 4;
    c.hidden_size = 256;
    c.num_attention_heads = 16;
    c.num_key_value_heads = 4;
    c.num_local_experts = 8;
    c.intermediate_size = 384;
    c.vocab_size = 4096;
    c.sliding_window = 8;
    c.eos_token_ids = {4095};
    c.pad_token_id = 4094;
  } else if (name == "gpt-oss-20b" || name == "gpt-oss-120b") {  // docs/MODEL.md, "Notation"
    c.num_hidden_layers = name == "gpt-oss-20b" ? 24 : 36;
    c.num_local_experts = name == "gpt-oss-20b" ? 32 : 128;
    c.hidden_size = 2880;
    c.num_attention_heads = 64;
    c.num_key_value_heads = 8;
    c.intermediate_size = 2880;
    c.vocab_size = 201088;
    c.sliding_window = 128;
    c.eos_token_ids = {200002};
    c.pad_token_id = 199999;
  } else {
    GOSSAMER_THROW(kInvalidArgument, "unknown synth preset \"{}\" (tiny, gpt-oss-20b, gpt-oss-120b)", name);
  }
  if (layers > 0) c.num_hidden_layers = layers;
  c.layer_types.clear();
  for (int l = 0; l < c.num_hidden_layers; ++l)
    c.layer_types.push_back(l % 2 == 0 ? LayerType::kSlidingAttention : LayerType::kFullAttention);
  c.validate("synth preset " + name);
  return c;
}

SynthResult write_synthetic_checkpoint(const ModelConfig& config, const SynthOptions& options) {
  config.validate("synthetic config");
  const auto& gen_eos =
      options.generation_eos_token_ids.empty() ? config.eos_token_ids : options.generation_eos_token_ids;
  for (int id : gen_eos)
    if (id < 0 || id >= config.vocab_size)
      GOSSAMER_THROW(kInvalidArgument, "generation eos id {} is outside the vocabulary [0, {})", id, config.vocab_size);
  Timer timer;
  std::vector<Planned> plan = plan_tensors(config);
  uint64_t total = 0;
  for (const auto& t : plan) total += t.spec.nbytes();
  uint64_t shard_bytes = options.shard_bytes ? options.shard_bytes : total < (64ull << 20) ? (4ull << 20) : 5000000000ull;
  const int shards = assign_shards(plan, shard_bytes);
  prepare_dir(options.out, options.overwrite);

  ThreadPool& pool = options.pool ? *options.pool : ThreadPool::global();
  Progress progress("synth " + options.out.filename().string(), total, Progress::Unit::kBytes, !options.show_progress);
  TensorGenerator gen(options.seed, pool, progress);
  SynthResult result;
  result.tensor_bytes = total;
  nlohmann::ordered_json weight_map;
  size_t i = 0;
  for (int s = 0; s < shards; ++s) {
    // The released checkpoint names shards 0..K-1 "of-(K-1)" (docs/MODEL.md, "HF layout");
    // we do the same so readers that trust the name are caught by our own tests.
    std::string file = fmt::format("model-{:05d}-of-{:05d}.safetensors", s, shards - 1);
    std::vector<TensorSpec> specs;
    size_t first = i;
    for (size_t k = i; k < plan.size() && plan[k].shard == s; ++k) specs.push_back(plan[k].spec);
    SafetensorsWriter w(options.out / file, specs);
    for (i = first; i < first + specs.size(); ++i) {
      weight_map[plan[i].spec.name] = file;
      if (plan[i].kind == Planned::kDense) gen.dense(plan[i], w);
      else if (plan[i].kind == Planned::kMxfp4Blocks) gen.mxfp4(plan[i], plan[i + 1], w);
      // kMxfp4Scales was written together with its blocks.
    }
    w.finish();
    result.shards.push_back(w.path());
    result.file_bytes += w.bytes_total();
  }
  progress.finish();

  write_json(options.out / "model.safetensors.index.json",
             {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}});
  nlohmann::json gen_cfg = {{"transformers_version", "4.55.0.dev0"}};
  if (!gen_eos.empty()) gen_cfg["eos_token_id"] = gen_eos;
  if (config.pad_token_id >= 0) gen_cfg["pad_token_id"] = config.pad_token_id;
  write_json(options.out / "generation_config.json", gen_cfg);
  write_json(options.out / "config.json", config.to_hf_json());  // last: marks the checkpoint complete
  result.seconds = timer.seconds();
  return result;
}

}  // namespace gossamer::model
