#include "apps/common.h"

#include "core/error.h"

namespace gossamer::apps {

std::vector<int32_t> parse_ids(const std::string& text) {
  std::vector<int32_t> ids;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    std::string piece = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(piece, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (piece.empty() || used != piece.size() || v < 0 || v > INT32_MAX)
      GOSSAMER_THROW(kInvalidArgument, "bad token id '{}' in '{}'", piece, text);
    ids.push_back(static_cast<int32_t>(v));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return ids;
}

void ModelOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--config", config_file, "YAML config (model, parallel, runtime sections)");
  cmd->add_option("--model", model_dir, "Model directory (HF layout, or original/); overrides the config");
  cmd->add_option("--layout", layout, "Checkpoint layout: auto, hf or original")
      ->check(CLI::IsMember({"auto", "hf", "original"}));
  cmd->add_option("--parallel", parallel,
                  "Parallel layout over the mpirun ranks, e.g. tp=2,ep=2 (tp, dp, ep, pp)");
  cmd->add_option("--moe-dispatch", dispatch, "Expert dispatch: allgather or alltoall")
      ->check(CLI::IsMember({"allgather", "alltoall"}));
  cmd->add_option("--threads", threads, "CPU threads per rank (0 = all)");
  cmd->add_option("--device", device, "Where the forward pass runs: cpu or cuda (runtime.device)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--gpu-comm", gpu_comm,
                  "GPU ranks: activations over nccl (a GPU per rank) or staged (MPI via host memory; ranks may "
                  "share a GPU) (runtime.gpu_comm)")
      ->check(CLI::IsMember({"nccl", "staged"}));
  cmd->add_option("--precision", precision,
                  "exact (fp32 activations), fast (bf16/int8 activations, bf16 KV cache) or auto (exact on the "
                  "CPU, fast on CUDA) (runtime.precision)")
      ->check(CLI::IsMember({"auto", "exact", "fast"}));
  cmd->add_option("--gpu-memory-fraction", gpu_memory_fraction,
                  "Share of each GPU's memory for weights, workspace and KV cache (runtime.gpu_memory_fraction, "
                  "default 0.9)")
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--max-context", max_context, "Tokens the KV cache holds per sequence")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--prefill-chunk", prefill_chunk, "Tokens per prefill step (0 = all at once)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
}

worker::RuntimeConfig ModelOptions::resolve() const {
  worker::RuntimeConfig c;
  if (!config_file.empty()) c = worker::RuntimeConfig::load_file(config_file);
  if (!model_dir.empty()) c.model.path = model_dir;
  if (!layout.empty()) c.model.layout = layout;
  if (!parallel.empty()) c.apply_parallel_spec(parallel);
  if (!dispatch.empty()) c.parallel.moe_dispatch = dispatch;
  if (threads >= 0) c.runtime.threads = threads;
  if (!device.empty()) c.runtime.device = device;
  if (!gpu_comm.empty()) c.runtime.gpu_comm = gpu_comm;
  if (!precision.empty()) c.runtime.precision = precision;
  if (gpu_memory_fraction > 0) c.runtime.gpu_memory_fraction = gpu_memory_fraction;
  if (c.model.path.empty())
    GOSSAMER_THROW(kInvalidArgument, "no model: give --model DIR or a --config with model.path");
  return c;
}

worker::EngineOptions ModelOptions::engine_options(const worker::RuntimeConfig& c) const {
  worker::EngineOptions o;
  o.layout = c.model.layout == "hf"         ? model::CheckpointLayout::kHF
             : c.model.layout == "original" ? model::CheckpointLayout::kOriginal
                                            : model::CheckpointLayout::kAuto;
  o.parallel = c.parallel.sizes;
  o.dispatch = worker::parse_moe_dispatch(c.parallel.moe_dispatch);
  o.device = kernels::parse_device(c.runtime.device);
  o.gpu_comm = worker::parse_gpu_comm(c.runtime.gpu_comm);
  o.precision = kernels::parse_precision(c.runtime.precision);
  o.gpu_memory_fraction = c.runtime.gpu_memory_fraction;
  o.threads = c.runtime.threads;
  o.block_size = c.runtime.kv_block_size;
  o.max_context = max_context;
  o.prefill_chunk = prefill_chunk;
  return o;
}

void DumpOptions::add_to(CLI::App* cmd) {
  cmd->add_option("--dump", specs,
                  "Write a named intermediate: NAME, NAME:LAYER or NAME:* (e.g. attn_out:3)");
  cmd->add_option("--dump-dir", dir, "Where --dump writes <name>.<layer>.npy")->capture_default_str();
}

}  // namespace gossamer::apps
