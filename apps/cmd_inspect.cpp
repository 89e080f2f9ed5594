// `gossamer inspect`: what a checkpoint holds and what serving it will cost.
// Collects an InspectReport, then renders it as text or JSON.
#include <algorithm>
#include <cstdio>
#include <map>

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "core/error.h"
#include "core/progress.h"
#include "model/checkpoint.h"
#include "model/tensor_names.h"
#include "worker/mapping.h"
#include "worker/runtime_config.h"
#include "worker/shard_bytes.h"
#include "worker/weights.h"

namespace gossamer::apps {
namespace {

using nlohmann::ordered_json;

struct InspectArgs {
  std::string model;
  std::string layout = "auto";
  bool json = false;
  bool no_check = false;
  std::string parallel;  // "tp=2,ep=4": add the bytes each rank of that layout maps
};

struct KvEstimate {
  uint64_t bytes_f32 = 0, bytes_bf16 = 0;  // per sequence of `tokens` tokens
  int tokens = 1024;
};

// KV cache for one sequence of n tokens: full layers keep all n, sliding layers at most
// the window (docs/MODEL.md, "Sliding window on alternate layers").
KvEstimate kv_per_tokens(const model::ModelConfig& c, int n) {
  KvEstimate k;
  k.tokens = n;
  uint64_t elems = 0;
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    uint64_t kept = c.is_sliding(l) ? std::min(n, c.sliding_window) : n;
    elems += 2ull * static_cast<uint64_t>(c.kv_width()) * kept;
  }
  k.bytes_f32 = elems * 4;
  k.bytes_bf16 = elems * 2;
  return k;
}

model::CheckpointLayout parse_layout(const std::string& s) {
  if (s == "hf") return model::CheckpointLayout::kHF;
  if (s == "original") return model::CheckpointLayout::kOriginal;
  return model::CheckpointLayout::kAuto;
}

std::string rel_file(const model::Checkpoint& ck, const std::filesystem::path& f) {
  return std::filesystem::relative(f, ck.dir()).string();
}

ordered_json build_report(const model::Checkpoint& ck, bool checked) {
  const auto& c = ck.config();
  ordered_json r;
  r["dir"] = ck.dir().string();
  r["layout"] = model::layout_name(ck.layout());
  r["config_file"] = ck.config_path().string();
  r["config"] = c.to_hf_json();
  ordered_json files = ordered_json::array();
  for (const auto& f : ck.files()) files.push_back(rel_file(ck, f));
  r["files"] = files;
  ordered_json tensors = ordered_json::array();
  std::map<std::string, uint64_t> by_dtype;
  uint64_t total = 0, params = 0;
  for (const auto& t : ck.tensors()) {
    tensors.push_back({{"name", t.name}, {"dtype", dtype_name(t.dtype)}, {"shape", t.shape},
                       {"file", rel_file(ck, t.file)}, {"bytes", t.nbytes}});
    by_dtype[dtype_name(t.dtype)] += t.nbytes;
    total += t.nbytes;
    // MXFP4 blocks hold two parameters per byte; their scales are overhead, not parameters.
    bool blocks = t.name.find("blocks") != std::string::npos;
    bool scales = t.name.find("scales") != std::string::npos;
    if (blocks) params += 2 * t.nbytes;
    else if (!scales) params += t.nbytes / dtype_bytes(t.dtype, 1);
  }
  r["tensors"] = tensors;
  r["bytes_by_dtype"] = by_dtype;
  r["tensor_bytes"] = total;
  r["parameters"] = params;
  KvEstimate kv = kv_per_tokens(c, 1024);
  r["memory"] = {{"weights_mmapped_bytes", ck.total_bytes()},
                 {"kv_cache_per_1k_tokens_f32_bytes", kv.bytes_f32},
                 {"kv_cache_per_1k_tokens_bf16_bytes", kv.bytes_bf16}};
  r["check"] = checked ? "ok" : "skipped";
  return r;
}

std::string range_text(int64_t begin, int64_t end) {
  return end - begin == 1 ? fmt::format("{}", begin) : fmt::format("{}-{}", begin, end - 1);
}

// Per-rank mapped bytes of a layout (worker::shard_bytes: from the tensor headers and the
// Mapping, no tensor data read). Throws kInvalidArgument when the layout does not fit.
ordered_json parallel_report(const model::Checkpoint& ck, const std::string& spec) {
  const auto p = worker::parse_parallel(spec);
  const auto dims = worker::ModelDims::from_config(ck.config());
  worker::Mapping::validate(p.world_size(), p, dims);
  ordered_json ranks = ordered_json::array();
  uint64_t sum = 0, max_rank = 0;
  for (int r = 0; r < p.world_size(); ++r) {
    const worker::Mapping m(p.world_size(), r, p, dims);
    const auto b = worker::shard_bytes(ck, m);
    sum += b.total();
    max_rank = std::max(max_rank, b.total());
    ranks.push_back({{"rank", r}, {"tp", m.tp_rank()}, {"dp", m.dp_rank()}, {"pp", m.pp_rank()},
                     {"ep", m.ep_rank()}, {"layers", range_text(m.layers().begin, m.layers().end)},
                     {"q_heads", range_text(m.q_heads().begin, m.q_heads().end)},
                     {"experts", range_text(m.experts().begin, m.experts().end)},
                     {"vocab", m.holds_lm_head() ? range_text(m.vocab().begin, m.vocab().end) : "-"},
                     {"embedding_bytes", b.embedding}, {"attention_bytes", b.attention},
                     {"expert_bytes", b.experts}, {"shared_bytes", b.shared},
                     {"lm_head_bytes", b.lm_head}, {"total_bytes", b.total()}});
  }
  return {{"layout", p.to_string()}, {"world_size", p.world_size()}, {"ranks", ranks},
          {"sum_over_ranks_bytes", sum}, {"max_rank_bytes", max_rank}};
}

void print_parallel(const ordered_json& par) {
  std::printf("\nbytes per rank, layout %s (%d ranks; mapped checkpoint bytes, no KV cache)\n",
              par["layout"].get<std::string>().c_str(), par["world_size"].get<int>());
  std::printf("%4s  %-11s  %-7s  %-7s  %-7s  %-13s  %10s  %10s  %10s  %10s  %10s  %10s\n", "rank",
              "tp/dp/pp/ep", "layers", "q heads", "experts", "vocab", "embedding", "attention", "experts",
              "shared", "lm_head", "total");
  auto h = [](const ordered_json& v) { return Progress::human_bytes(v.get<double>()); };
  for (const auto& x : par["ranks"]) {
    const std::string coords = fmt::format("{}/{}/{}/{}", x["tp"].get<int>(), x["dp"].get<int>(),
                                           x["pp"].get<int>(), x["ep"].get<int>());
    std::printf("%4d  %-11s  %-7s  %-7s  %-7s  %-13s  %10s  %10s  %10s  %10s  %10s  %10s\n", x["rank"].get<int>(),
                coords.c_str(), x["layers"].get<std::string>().c_str(), x["q_heads"].get<std::string>().c_str(),
                x["experts"].get<std::string>().c_str(), x["vocab"].get<std::string>().c_str(),
                h(x["embedding_bytes"]).c_str(), h(x["attention_bytes"]).c_str(), h(x["expert_bytes"]).c_str(),
                h(x["shared_bytes"]).c_str(), h(x["lm_head_bytes"]).c_str(), h(x["total_bytes"]).c_str());
  }
  std::printf("  largest rank %s; all ranks together %s (replicated parts counted per rank)\n",
              h(par["max_rank_bytes"]).c_str(), h(par["sum_over_ranks_bytes"]).c_str());
}

void print_text(const model::Checkpoint& ck, const ordered_json& r) {
  const auto& c = ck.config();
  int sliding = 0;
  for (int l = 0; l < c.num_hidden_layers; ++l) sliding += c.is_sliding(l);
  std::printf("model   %s (%s layout, %zu files)\n", ck.dir().c_str(), model::layout_name(ck.layout()),
              ck.files().size());
  std::printf("config  %s\n", ck.config_path().c_str());
  std::printf("  layers %d (%d sliding, window %d; %d full)  hidden %d  vocab %d\n", c.num_hidden_layers, sliding,
              c.sliding_window, c.num_hidden_layers - sliding, c.hidden_size, c.vocab_size);
  std::printf("  attention %d q heads / %d kv heads x %d, bias %s\n", c.num_attention_heads, c.num_key_value_heads,
              c.head_dim, c.attention_bias ? "yes" : "no");
  std::printf("  experts %d (top %d), intermediate %d, swiglu limit %g alpha %g, quant %s\n", c.num_local_experts,
              c.num_experts_per_tok, c.intermediate_size, c.swiglu_limit, c.swiglu_alpha,
              c.quantization.quant_method.empty() ? "none" : c.quantization.quant_method.c_str());
  std::printf("  rope %s theta %g factor %g beta %g/%g ctx0 %lld truncate %s, eps %g\n",
              c.rope_scaling.rope_type.c_str(), c.rope_theta, c.rope_scaling.factor, c.rope_scaling.beta_fast,
              c.rope_scaling.beta_slow, static_cast<long long>(c.rope_scaling.original_max_position_embeddings),
              c.rope_scaling.truncate ? "true" : "false", c.rms_norm_eps);
  std::printf("  eos %s  pad %d\n\n", fmt::format("{}", c.eos_token_ids).c_str(), c.pad_token_id);

  size_t wname = 4, wfile = 4;
  for (const auto& t : r["tensors"]) {
    wname = std::max(wname, t["name"].get<std::string>().size());
    wfile = std::max(wfile, t["file"].get<std::string>().size());
  }
  std::printf("%-*s  %-5s  %-22s  %-*s  %12s\n", static_cast<int>(wname), "name", "dtype", "shape",
              static_cast<int>(wfile), "file", "bytes");
  for (const auto& t : r["tensors"]) {
    std::string shape = fmt::format("[{}]", fmt::join(t["shape"].get<std::vector<int64_t>>(), ", "));
    std::printf("%-*s  %-5s  %-22s  %-*s  %12llu\n", static_cast<int>(wname), t["name"].get<std::string>().c_str(),
                t["dtype"].get<std::string>().c_str(), shape.c_str(), static_cast<int>(wfile),
                t["file"].get<std::string>().c_str(), static_cast<unsigned long long>(t["bytes"].get<uint64_t>()));
  }
  std::printf("\nbytes by dtype\n");
  for (const auto& [dt, n] : r["bytes_by_dtype"].items())
    std::printf("  %-5s %s\n", dt.c_str(), Progress::human_bytes(n.get<double>()).c_str());
  std::printf("  total %s in %zu tensors, %.3f B parameters\n",
              Progress::human_bytes(r["tensor_bytes"].get<double>()).c_str(), ck.tensors().size(),
              r["parameters"].get<double>() / 1e9);
  const auto& m = r["memory"];
  std::printf("\nmemory\n  weights (mmapped, read on demand): %s\n",
              Progress::human_bytes(m["weights_mmapped_bytes"].get<double>()).c_str());
  std::printf("  KV cache per 1k tokens of one sequence: %s f32 (CPU), %s bf16 (CUDA)\n",
              Progress::human_bytes(m["kv_cache_per_1k_tokens_f32_bytes"].get<double>()).c_str(),
              Progress::human_bytes(m["kv_cache_per_1k_tokens_bf16_bytes"].get<double>()).c_str());
  std::printf("\ncheck   %s\n", r["check"] == "ok" ? "every tensor's dtype and shape match the config"
                                                    : "skipped (--no-check)");
  if (r.contains("parallel")) print_parallel(r["parallel"]);
}

void run_inspect(const InspectArgs& a) {
  auto ck = model::Checkpoint::open(a.model, parse_layout(a.layout));
  if (!a.no_check) {
    // Binding all weights checks every tensor's dtype and shape against the config; it
    // only builds views, so it costs no reads of the big matrices.
    worker::LoadOptions opts;
    opts.show_progress = false;
    worker::load_weights(ck, {}, opts);
  }
  ordered_json r = build_report(*ck, !a.no_check);
  if (!a.parallel.empty()) r["parallel"] = parallel_report(*ck, a.parallel);
  if (a.json) std::printf("%s\n", r.dump(2).c_str());
  else print_text(*ck, r);
}

}  // namespace

void add_inspect_command(CLI::App& app) {
  auto args = std::make_shared<InspectArgs>();
  auto* cmd = app.add_subcommand("inspect", "Show a checkpoint's config, tensors and memory needs; check it loads");
  cmd->add_option("--model", args->model, "model directory (HF layout, or original/)")->required();
  cmd->add_option("--layout", args->layout, "hf, original or auto")
      ->check(CLI::IsMember({"auto", "hf", "original"}))
      ->capture_default_str();
  cmd->add_flag("--json", args->json, "print the report as JSON");
  cmd->add_flag("--no-check", args->no_check, "skip checking tensors against the config");
  cmd->add_option("--parallel", args->parallel,
                  "layout, e.g. tp=2,ep=4[,dp=..,pp=..]: show the checkpoint bytes each rank maps");
  cmd->callback([args] { run_inspect(*args); });
}

}  // namespace gossamer::apps
