// gossamer serve: the service (coordinator/) on world rank 0, the step followers on the
// other ranks. Alone: `gossamer serve --model DIR`; as a job:
// `mpirun -np N gossamer serve --config FILE.yaml`.
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <future>

#include "apps/commands.h"
#include "apps/gateway_flags.h"
#include "apps/serve_gateway.h"
#include "apps/mpi_world.h"
#include "coordinator/service.h"
#include "gateway/auth.h"
#include "protocol/curve_keys.h"
#include "core/error.h"
#include "core/log.h"
#include "tokenizer/locate.h"
#include "worker/layer_context.h"
#include "worker/runtime_config.h"

namespace gossamer::apps {
namespace {

// True for addresses only this machine can reach: loopback TCP, ipc://, inproc://.
bool endpoint_is_local(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  const std::string host = endpoint.rfind("tcp://", 0) == 0 ? endpoint.substr(6, endpoint.rfind(':') - 6) : endpoint;
  return host == "localhost" || host == "[::1]" || host == "::1" || host.rfind("127.", 0) == 0;
}

std::atomic<bool> g_stop{false};
// Set when the stop signal came from the process that launched this rank (mpirun or orted):
// that is how Open MPI tears a job down after a rank died, and it sends SIGKILL a second
// later. A signal from anyone else (an operator's `kill`, a service manager) is a plain
// request to stop, which may wait for the running step however long it takes.
std::atomic<bool> g_stop_by_launcher{false};
extern "C" void on_stop_signal(int, siginfo_t* info, void*) {
  if (info != nullptr && info->si_pid != 0 && info->si_pid == ::getppid()) g_stop_by_launcher.store(true);
  g_stop.store(true);
}
extern "C" void on_follower_signal(int) {}  // rank 0 decides when the job ends

struct ServeArgs {
  std::string model, config, parallel, endpoint, tokenizer, layout, pid_file, endpoint_file;
  int threads = -1, max_context = 0, kv_block_size = 0, max_queue = 0, max_running = 0;
  std::string device;  // empty: the config's runtime.device
  std::string gpu_comm;  // empty: the config's runtime.gpu_comm
  std::string precision;  // empty: the config's runtime.precision
  double gpu_memory_fraction = 0;  // 0: the config's
  int64_t kv_blocks = -1, kv_window_blocks = -1, max_batch_tokens = 0, default_max_tokens = 0;
  double comm_timeout_s = -1, heartbeat_s = 0;
  bool no_prefix_cache = false;
  std::string http;  // non-empty: the HTTP gateway runs in this process too
  std::string curve_secret_key_file, curve_authorized_keys_file;
  std::string http_port_file;
  GatewayFlags gateway;
};

worker::RuntimeConfig load_config(const ServeArgs& a) {
  worker::RuntimeConfig cfg = a.config.empty() ? worker::RuntimeConfig{} : worker::RuntimeConfig::load_file(a.config);
  if (!a.parallel.empty()) cfg.apply_parallel_spec(a.parallel);
  if (!a.model.empty()) cfg.model.path = a.model;
  if (!a.layout.empty()) cfg.model.layout = a.layout;
  if (!a.endpoint.empty()) cfg.server.endpoint = a.endpoint;
  if (a.threads >= 0) cfg.runtime.threads = a.threads;
  if (!a.device.empty()) cfg.runtime.device = a.device;
  if (!a.gpu_comm.empty()) cfg.runtime.gpu_comm = a.gpu_comm;
  if (!a.precision.empty()) cfg.runtime.precision = a.precision;
  if (a.gpu_memory_fraction > 0) cfg.runtime.gpu_memory_fraction = a.gpu_memory_fraction;
  if (a.max_context > 0) cfg.server.max_context = a.max_context;
  if (a.kv_block_size > 0) cfg.runtime.kv_block_size = a.kv_block_size;
  if (a.kv_blocks >= 0) cfg.runtime.kv_blocks = a.kv_blocks;
  if (a.kv_window_blocks >= 0) cfg.runtime.kv_window_blocks = a.kv_window_blocks;
  if (a.max_batch_tokens > 0) cfg.runtime.max_batch_tokens = a.max_batch_tokens;
  if (a.max_queue > 0) cfg.server.max_queue = a.max_queue;
  if (a.max_running > 0) cfg.server.max_running = a.max_running;
  if (a.default_max_tokens > 0) cfg.server.default_max_tokens = a.default_max_tokens;
  if (a.comm_timeout_s >= 0) cfg.runtime.comm_timeout_s = a.comm_timeout_s;
  if (a.heartbeat_s > 0) cfg.server.heartbeat_s = a.heartbeat_s;
  if (cfg.model.path.empty()) GOSSAMER_THROW(kInvalidArgument, "serve: no model: pass --model DIR or set model.path in --config");
  if (!a.curve_secret_key_file.empty()) cfg.server.curve_secret_key_file = a.curve_secret_key_file;
  if (!a.curve_authorized_keys_file.empty()) cfg.server.curve_authorized_keys_file = a.curve_authorized_keys_file;
  if (cfg.server.curve_secret_key_file.empty() != cfg.server.curve_authorized_keys_file.empty())
    GOSSAMER_THROW(kInvalidArgument, "CURVE needs both the server's secret key file and the authorized client keys file");
  return cfg;
}

model::CheckpointLayout layout_of(const std::string& s) {
  return s == "hf" ? model::CheckpointLayout::kHF
         : s == "original" ? model::CheckpointLayout::kOriginal
                           : model::CheckpointLayout::kAuto;
}

void serve(const ServeArgs& args) {
  if (!args.http.empty()) {  // refuse a bad --http before the model loads
    const size_t colon = args.http.rfind(':');
    gateway::check_listen_policy(args.http.substr(0, colon == std::string::npos ? 0 : colon),
                                 !args.gateway.api_key_file.empty(), args.gateway.insecure);
  }
  const worker::RuntimeConfig cfg = load_config(args);
  World world = make_world(cfg.runtime.comm_timeout());
  const bool coordinator = world.rank() == 0;
  auto fatal = [&](const std::string& what) {
    if (world.mpi) comm::MpiRuntime::abort(what, 3);
    GOSSAMER_THROW(kComm, "{}", what);
  };
  cfg.check_world(world.size());

  const int bs = cfg.runtime.kv_block_size;
  const int blocks_per_context = (cfg.server.max_context + bs - 1) / bs;
  worker::ExecutorOptions ex;
  ex.layout = layout_of(cfg.model.layout);
  ex.parallel = cfg.parallel.sizes;
  ex.dispatch = worker::parse_moe_dispatch(cfg.parallel.moe_dispatch);
  ex.device = kernels::parse_device(cfg.runtime.device);
  ex.gpu_comm = worker::parse_gpu_comm(cfg.runtime.gpu_comm);
  ex.precision = kernels::parse_precision(cfg.runtime.precision);
  ex.gpu_memory_fraction = cfg.runtime.gpu_memory_fraction;
  ex.threads = cfg.runtime.threads;
  ex.block_size = bs;
  // Default pool: room for 8 full-context sequences per replica.
  ex.num_blocks = static_cast<int>(cfg.runtime.kv_blocks > 0 ? cfg.runtime.kv_blocks : int64_t{blocks_per_context} * 8);
  ex.num_window_blocks = static_cast<int>(cfg.runtime.kv_window_blocks);
  ex.max_sequences = cfg.server.max_running;
  ex.max_step_tokens = cfg.runtime.max_batch_tokens;

  // Rank 0 reads the tokenizer (seconds on a busy box) while the model loads; found here,
  // so a missing tokenizer fails before any collective.
  std::future<Tokenizer> tokenizer_load;
  if (coordinator) {
    const std::string path = locate_tokenizer({args.tokenizer, cfg.model.path});
    tokenizer_load = std::async(std::launch::async, [path] { return Tokenizer::load(path); });
  }

  if (coordinator) {
    struct sigaction action {};
    action.sa_sigaction = on_stop_signal;
    action.sa_flags = SA_SIGINFO;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, nullptr);
    sigaction(SIGTERM, &action, nullptr);
  } else {
    std::signal(SIGINT, on_follower_signal);
    std::signal(SIGTERM, on_follower_signal);
  }
  std::signal(SIGPIPE, SIG_IGN);

  std::unique_ptr<worker::RankExecutor> executor;
  try {
    executor = std::make_unique<worker::RankExecutor>(cfg.model.path, ex, *world.comm);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kComm) fatal(e.what());
    throw;
  }
  if (!args.pid_file.empty() && !coordinator)
    std::ofstream(args.pid_file + ".rank" + std::to_string(world.rank())) << ::getpid() << "\n";
  if (!coordinator) {
    try {
      worker::follow_steps(*executor);
    } catch (const Error& e) {
      fatal(std::string("the step loop failed (is rank 0 alive?): ") + e.what());
    }
    return;
  }

  // Idle plans keep the followers (waiting for the first plan) within their deadline.
  const auto idle_every = std::chrono::milliseconds(static_cast<int64_t>(
      std::clamp((cfg.runtime.comm_timeout_s > 0 ? cfg.runtime.comm_timeout_s : 60) / 4, 0.05, 1.0) * 1000));
  uint64_t warmup_steps = 0;
  while (tokenizer_load.wait_for(idle_every) != std::future_status::ready) {
    worker::StepPlan idle;
    idle.step = warmup_steps++;
    idle.command = worker::StepCommand::kIdle;
    try {
      executor->run_step(&idle);
    } catch (const Error& e) {
      fatal(e.what());
    }
  }
  const Tokenizer tokenizer = tokenizer_load.get();

  const auto& mc = executor->config();
  coordinator::ServiceOptions so;
  so.max_context = std::min<int>({cfg.server.max_context, static_cast<int>(mc.max_position_embeddings),
                                  ex.num_blocks * bs});
  so.max_queue = cfg.server.max_queue;
  // Followers wait comm_timeout for the next plan: beat well within it.
  so.heartbeat = idle_every;
  so.scheduler.dp = cfg.parallel.sizes.dp;
  so.scheduler.kv = executor->kv_pool_sizes();
  so.scheduler.max_batch_tokens = cfg.runtime.max_batch_tokens;
  so.scheduler.max_running = cfg.server.max_running;
  so.scheduler.prefix_cache = !args.no_prefix_cache;
  so.front.endpoint = cfg.server.endpoint;
  so.front.limits.max_frame_bytes = static_cast<size_t>(cfg.server.max_frame_bytes);
  so.front.limits.max_tokens = cfg.server.max_tokens;
  so.front.limits.context_length = so.max_context;
  so.front.limits.vocab_size = mc.vocab_size;
  so.front.model_vocab = mc.vocab_size;
  so.front.default_max_tokens = cfg.server.default_max_tokens;
  so.front.heartbeat_s = cfg.server.heartbeat_s;
  so.front.max_inflight_per_connection = cfg.server.max_inflight_per_connection;
  so.front.send_hwm = cfg.server.send_hwm;
  so.front.world_size = world.size();
  // Under mpirun only: alone, no peer can die in a step, and the launcher is the shell.
  so.front.stop_by_launcher = world.mpi && world.size() > 1 ? &g_stop_by_launcher : nullptr;
  so.front.endpoint_file = args.endpoint_file;
  if (!cfg.server.curve_secret_key_file.empty()) {
    so.front.curve_secret_key = protocol::read_curve_key(cfg.server.curve_secret_key_file);
    so.front.curve_allowed_clients = protocol::read_curve_key_list(cfg.server.curve_authorized_keys_file);
    GLOG_INFO("front door: CURVE on; {} client key(s) allowed; server public key {}", so.front.curve_allowed_clients.size(),
              protocol::curve_public_of(so.front.curve_secret_key));
  } else if (!endpoint_is_local(cfg.server.endpoint)) {
    // Anyone who can reach the port could submit, cancel others' work or read stats.
    if (!args.gateway.insecure && !cfg.server.insecure)
      GOSSAMER_THROW(kInvalidArgument,
                     "refusing to listen on {} without authentication: set server.curve_secret_key_file and "
                     "server.curve_authorized_keys_file (gossamer keygen), or pass --insecure (server.insecure: "
                     "true) on a private network",
                     cfg.server.endpoint);
    GLOG_WARN("front door: {} is reachable from other machines and has no authentication (--insecure)",
              cfg.server.endpoint);
  }
  so.front.model_name = std::filesystem::path(cfg.model.path).lexically_normal().filename().string();
  if (so.front.model_name.empty())
    so.front.model_name = std::filesystem::path(cfg.model.path).lexically_normal().parent_path().filename().string();

  GatewayFlags http_flags = args.gateway;
  if (!args.http.empty() && !so.front.curve_secret_key.empty()) {
    // The in-process gateway is a CURVE client like any other, with a key made for this run.
    const protocol::CurveKeyPair own = protocol::generate_curve_keypair();
    so.front.curve_allowed_clients.push_back(own.public_key);
    http_flags.curve_server_public = protocol::curve_public_of(so.front.curve_secret_key);
    http_flags.curve_public = own.public_key;
    http_flags.curve_secret = own.secret_key;
  }
  if (!args.http.empty() && so.front.endpoint_file.empty())
    so.front.endpoint_file = "/tmp/gossamer-serve-" + std::to_string(::getpid()) + ".endpoint";
  if (!args.pid_file.empty()) std::ofstream(args.pid_file) << ::getpid() << "\n";
  coordinator::Service service(*executor, tokenizer, so);
  std::unique_ptr<ServeGateway> http;
  if (!args.http.empty()) http = std::make_unique<ServeGateway>(args.http, http_flags, so.front.endpoint_file, tokenizer, args.http_port_file);
  try {
    service.run(g_stop);
  } catch (const Error& e) {
    if (e.code() == ErrorCode::kComm)
      fatal(std::string("a rank failed; every in-flight request was answered with rank_failure: ") + e.what());
    if (world.mpi) fatal(std::string("the service failed: ") + e.what());  // the other ranks must end too
    throw;
  } catch (const std::exception& e) {
    if (world.mpi) fatal(std::string("the service failed: ") + e.what());
    throw;
  }
  GLOG_INFO("server stopped");
}

}  // namespace

void add_serve_command(CLI::App& app) {
  auto a = std::make_shared<ServeArgs>();
  auto* cmd = app.add_subcommand("serve", "Serve the model over ZeroMQ (docs/SERVING.md)");
  cmd->add_option("--model", a->model, "Model directory (or model.path in --config)");
  cmd->add_option("--config", a->config, "Runtime YAML (configs/*.yaml): parallel layout, runtime, server");
  cmd->add_option("--parallel", a->parallel, "Override the layout: tp=2,ep=2,dp=1,pp=1");
  cmd->add_option("--layout", a->layout, "Checkpoint layout: auto, hf or original");
  cmd->add_option("--endpoint", a->endpoint, "ZeroMQ bind address (default tcp://127.0.0.1:5555)");
  cmd->add_option("--tokenizer", a->tokenizer, "tokenizer.json (default: the model's, $GOSSAMER_TOKENIZER, .cache)");
  cmd->add_option("--threads", a->threads, "CPU threads per rank (0 = all)");
  cmd->add_option("--device", a->device, "Where the forward pass runs: cpu or cuda (runtime.device)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  cmd->add_option("--precision", a->precision,
                  "exact (fp32 activations), fast (bf16/int8 activations, bf16 KV cache) or auto (exact on the "
                  "CPU, fast on CUDA) (runtime.precision)")
      ->check(CLI::IsMember({"auto", "exact", "fast"}));
  cmd->add_option("--gpu-comm", a->gpu_comm, "GPU ranks: nccl or staged (runtime.gpu_comm)")
      ->check(CLI::IsMember({"nccl", "staged"}));
  cmd->add_option("--gpu-memory-fraction", a->gpu_memory_fraction,
                  "Share of each GPU's memory to use (runtime.gpu_memory_fraction, default 0.9)")
      ->check(CLI::Range(0.01, 1.0));
  cmd->add_option("--max-context", a->max_context, "Tokens per sequence (prompt + output)");
  cmd->add_option("--kv-block-size", a->kv_block_size, "Tokens per KV block");
  cmd->add_option("--kv-blocks", a->kv_blocks, "Full-attention KV blocks per DP replica (0 = 8 full contexts)");
  cmd->add_option("--kv-window-blocks", a->kv_window_blocks,
                  "Sliding-window KV blocks per DP replica (0 = sized from --max-running and --max-batch-tokens)");
  cmd->add_option("--max-batch-tokens", a->max_batch_tokens, "Token budget of one step");
  cmd->add_option("--max-queue", a->max_queue, "Waiting requests before `overloaded`");
  cmd->add_option("--max-running", a->max_running, "Sequences batched at once");
  cmd->add_option("--default-max-tokens", a->default_max_tokens, "max_tokens when a request sets none");
  cmd->add_option("--comm-timeout", a->comm_timeout_s, "Deadline of one collective, seconds (0 = none)");
  cmd->add_option("--heartbeat", a->heartbeat_s, "ZMTP heartbeat toward clients, seconds");
  cmd->add_option("--endpoint-file", a->endpoint_file, "Write the bound address here once serving (for --endpoint tcp://127.0.0.1:*)");
  cmd->add_option("--pid-file", a->pid_file, "Rank 0 writes its pid here (send it SIGTERM to stop); rank N > 0 to PATH.rankN");
  cmd->add_flag("--no-prefix-cache", a->no_prefix_cache, "Do not share KV blocks of common prompt prefixes");
  cmd->add_option("--curve-secret-key-file", a->curve_secret_key_file,
                  "ZeroMQ CURVE: the front door's secret key (gossamer keygen; server.curve_secret_key_file)");
  cmd->add_option("--curve-authorized-keys-file", a->curve_authorized_keys_file,
                  "ZeroMQ CURVE: client public keys allowed in, one per line (server.curve_authorized_keys_file)");
  cmd->add_option("--http", a->http, "Also serve the OpenAI-compatible HTTP API on HOST:PORT (gateway/)");
  cmd->add_option("--http-port-file", a->http_port_file, "Write the bound HTTP port here once listening (for --http HOST:0)");
  a->gateway.add_to(cmd);
  cmd->callback([a] { serve(*a); });
}

}  // namespace gossamer::apps
