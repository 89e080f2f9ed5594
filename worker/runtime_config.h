#pragma once
// RuntimeConfig: the YAML file (configs/*.yaml) as typed settings. The one place that reads
// the configuration; everything downstream gets these structs (docs/ARCHITECTURE.md,
// "Conventions").
//
//   model:    {path: DIR, layout: auto|hf|original}
//   parallel: {tp: 2, dp: 1, ep: 2, pp: 1, moe_dispatch: allgather|alltoall}
//   runtime:  {threads: 0, max_batch_tokens: 2048, kv_block_size: 16, kv_blocks: 0,
//              kv_window_blocks: 0, comm_timeout_s: 60, device: cpu|cuda,
//              gpu_comm: nccl|staged, gpu_memory_fraction: 0.9, precision: auto|exact|fast}
//   server:   {endpoint: "tcp://*:5555", max_queue: 256, max_frame_bytes: 16777216,
//              heartbeat_s: 5, max_context: 4096, max_running: 64, default_max_tokens: 512,
//              max_tokens: 32768, curve_secret_key_file: "", curve_authorized_keys_file: "",
//              max_inflight_per_connection: 256, send_hwm: 10000, insecure: false}
//   cluster:  {nodes: 1, ranks_per_node: 0, hostfile: ""}
//
// Every section and key is optional (defaults above); unknown keys and bad values are
// errors (kInvalidArgument) that name the file, line and key path:
//   "configs/x.yaml:3: parallel.tp: expected a positive integer, got 'x'".
// Relative paths (model.path, hostfile, key files) are taken as written, i.e. relative to
// the working directory of the ranks.
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>

#include "worker/mapping.h"

namespace gossamer::worker {

struct ModelSettings {
  std::string path;              // checkpoint directory; empty = given on the command line
  std::string layout = "auto";   // auto (detect), hf, original
};

struct ParallelSettings {
  ParallelConfig sizes;          // tp, dp, ep, pp (validated against the world by Mapping)
  // "allgather" (small EP, static shapes) or "alltoall" (large EP, across nodes); checked
  // here, turned into the MoeDispatch enum with worker::parse_moe_dispatch, which lives with
  // the layers that use it (worker/layer_context.h), so this header stays free of them.
  std::string moe_dispatch = "allgather";
};

struct RuntimeSettings {
  int threads = 0;                   // compute threads per rank; 0 = the cores this rank has
  int64_t max_batch_tokens = 2048;   // token budget of one step (prefill chunks + decodes)
  int kv_block_size = 16;            // tokens per KV block
  int64_t kv_blocks = 0;             // full-attention KV blocks per DP replica;
                                     // 0 = room for 8 sequences of max_context
  int64_t kv_window_blocks = 0;      // sliding-window KV blocks per DP replica; 0 = sized
                                     // from max_running and max_batch_tokens
  double comm_timeout_s = 60;        // deadline of one collective (comm::Communicator);
                                     // 0 = none (blocking MPI calls, fastest; a hung peer
                                     // is then caught only by the launcher)
  std::string device = "cpu";        // cpu or cuda
  // GPU ranks: how activations travel between ranks. "nccl" (one GPU per rank) or
  // "staged" (MPI through pinned host memory: several ranks may share one GPU, for tests).
  std::string gpu_comm = "nccl";
  double gpu_memory_fraction = 0.9;  // of each GPU's memory for weights, workspace and KV
  // exact: fp32 activations (golden fp32 tier); fast: bf16/int8 activations and a bf16 KV
  // cache where a kernel has them (golden bf16 tier); auto: exact on the CPU, fast on CUDA
  // (kernels::Precision, kernels::resolve_precision).
  std::string precision = "auto";
  std::chrono::milliseconds comm_timeout() const;
};

struct ServerSettings {
  std::string endpoint = "tcp://127.0.0.1:5555";  // ZeroMQ ROUTER bind address (rank 0)
  int max_queue = 256;                            // waiting requests before `overloaded`
  int64_t max_frame_bytes = 16 << 20;             // larger client frames are rejected
  double heartbeat_s = 5;                         // ZMTP heartbeat interval
  int max_context = 4096;                         // tokens per sequence (prompt + output)
  int max_running = 64;                           // sequences batched at once
  int64_t default_max_tokens = 512;               // when a submit sets no max_tokens
  int64_t max_tokens = 32768;                     // largest max_tokens a submit may ask
  int64_t max_inflight_per_connection = 256;      // a connection's requests before `overloaded`
  int send_hwm = 10000;                           // replies queued to a client that does not read
  std::string curve_secret_key_file;              // CURVE server key; empty = no auth
  std::string curve_authorized_keys_file;         // client public keys allowed in
  bool insecure = false;                          // allow a network endpoint without CURVE
};

struct ClusterSettings {
  int nodes = 1;            // hosts in the job
  int ranks_per_node = 0;   // 0 = world / nodes
  std::string hostfile;     // for launch/ scripts; the engine itself does not read it
};

struct RuntimeConfig {
  ModelSettings model;
  ParallelSettings parallel;
  RuntimeSettings runtime;
  ServerSettings server;
  ClusterSettings cluster;

  // Throws kNotFound when the file is missing, kInvalidArgument on bad YAML or settings.
  static RuntimeConfig load_file(const std::filesystem::path& path);
  // `source` names the text in errors (a file name, "<string>").
  static RuntimeConfig parse(std::string_view yaml, const std::string& source = "<string>");

  // Applies a --parallel override on top of the file (see parse_parallel_spec).
  void apply_parallel_spec(std::string_view spec);
  // Checks what only the launched job knows: tp × dp × pp == world and nodes ×
  // ranks_per_node == world when ranks_per_node is set. Throws kInvalidArgument.
  void check_world(int world_size) const;
};

// Parses "tp=2,ep=4,pp=1,dp=1" on top of `base`: keys not named keep their value. Errors
// name the key: "--parallel 'tp=x': tp: expected a positive integer, got 'x'".
ParallelConfig parse_parallel(std::string_view spec, ParallelConfig base = {});
// The same, also accepting moe_dispatch=allgather|alltoall.
ParallelSettings parse_parallel_spec(std::string_view spec, ParallelSettings base = {});

}  // namespace gossamer::worker
