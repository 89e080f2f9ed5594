// Scaling benchmark (issue 4): per-step time of each parallel layout at prefill and at
// decode, split into compute and communication. Run under mpirun, one world size per run:
//   mpirun -np 4 --oversubscribe build/bench/bench_scaling --model DIR --label tiny
//       --layouts "tp=4;tp=4,ep=4;dp=4,ep=4" --out bench/results/scaling-tiny-np4.json
// Layouts whose world size is not the job's are skipped; layouts with ep > 1 run with both
// dispatch strategies. bench/scaling/run.sh runs np 1, 2, 4 and merges the JSON.
//
// The bench drives worker::RankExecutor with its own StepPlans (not worker::Engine) so a
// prefill step holds all prompts at once (DP replicas split them) and every rank can tell
// the phases apart by step index. Figures per step:
//   step    = rank 0's wall time of run_step (plan broadcast included)
//   comm    = max over ranks of the time inside Communicator calls during the step
//             (comm::TimedCommunicator via ExecutorOptions::time_comm; a rank waiting in a
//             collective for a slower peer counts as communication)
//   compute = step - comm
// Each figure is the median over the timed steps. --ep-tp-dispatch run|skip (default run)
// chooses, for layouts with ep == tp, between the configured dispatch and the all-reduce
// path of the MoE block (ExecutorOptions::moe_skip_dispatch_when_ep_is_tp), for A/B runs.
#include <algorithm>
#include <cstring>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "comm/mpi_runtime.h"
#include "core/error.h"
#include "core/log.h"
#include "core/timer.h"
#include "worker/rank_executor.h"
#include "worker/runtime_config.h"

namespace gossamer {
namespace {

struct Args {
  std::string model, label = "model", out;
  std::vector<std::string> layouts{"tp=1"};
  int prefill_seqs = 4, prefill_tokens = 128, prefill_steps = 3;
  int decode_seqs = 8, decode_context = 32, decode_steps = 16;
  int threads = 0;  // per rank; 0 = max(1, hardware threads / ranks)
  double timeout_s = 60;
  bool skip_dispatch = false;  // ExecutorOptions::moe_skip_dispatch_when_ep_is_tp
};

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string part; std::getline(ss, part, sep);)
    if (!part.empty()) out.push_back(part);
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) GOSSAMER_THROW(kInvalidArgument, "{} needs a value", k);
      return argv[++i];
    };
    if (k == "--model") a.model = next();
    else if (k == "--label") a.label = next();
    else if (k == "--out") a.out = next();
    else if (k == "--layouts") a.layouts = split(next(), ';');
    else if (k == "--prefill-seqs") a.prefill_seqs = std::stoi(next());
    else if (k == "--prefill-tokens") a.prefill_tokens = std::stoi(next());
    else if (k == "--prefill-steps") a.prefill_steps = std::stoi(next());
    else if (k == "--decode-seqs") a.decode_seqs = std::stoi(next());
    else if (k == "--decode-context") a.decode_context = std::stoi(next());
    else if (k == "--decode-steps") a.decode_steps = std::stoi(next());
    else if (k == "--threads") a.threads = std::stoi(next());
    else if (k == "--comm-timeout-s") a.timeout_s = std::stod(next());
    else if (k == "--ep-tp-dispatch") a.skip_dispatch = next() == "skip";  // skip | run
    else GOSSAMER_THROW(kInvalidArgument, "unknown option {}", k);
  }
  if (a.model.empty()) GOSSAMER_THROW(kInvalidArgument, "--model is required");
  return a;
}

// Sequence i owns KV blocks [i * per_seq, (i + 1) * per_seq): ids are per DP replica, so
// distinct global ids below num_blocks are valid on every replica.
std::vector<int32_t> blocks_of(int seq, int per_seq) {
  std::vector<int32_t> b(static_cast<size_t>(per_seq));
  for (int j = 0; j < per_seq; ++j) b[static_cast<size_t>(j)] = seq * per_seq + j;
  return b;
}

// Sliding-window layers get the same ids from their own pool (sized alike below): the
// benchmark measures compute and communication, not KV memory.
worker::StepPlan make_step(int n_seqs, int start_pos, int tokens, int per_seq, int vocab, bool sliding,
                           uint64_t step) {
  worker::StepPlan plan;
  plan.step = step;
  for (int s = 0; s < n_seqs; ++s) {
    worker::SequencePlan sp;
    sp.seq_id = s;
    sp.start_pos = start_pos;
    for (int t = 0; t < tokens; ++t)
      sp.token_ids.push_back(static_cast<int32_t>((7919ll * (start_pos + t) + 131 * s + 13) % vocab));
    sp.block_table = blocks_of(s, per_seq);
    if (sliding) sp.window_block_table = sp.block_table;
    sp.is_prefill = tokens > 1;
    plan.sequences.push_back(std::move(sp));
  }
  return plan;
}

double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

struct PhaseResult {
  std::string phase;
  int64_t tokens_per_step = 0;
  double step_s = 0, comm_s = 0, compute_s = 0, comm_share = 0, tokens_per_s = 0;
  double comm_mb_max = 0;  // MB handed to the transport per step, max over ranks
  double calls_max = 0;    // Communicator calls per step, max over ranks
};

// Per step i of `steps` (indices into every rank's timings): rank 0's wall step time from
// `wall`, comm = max over ranks.
PhaseResult summarize(const std::string& phase, const std::vector<double>& wall,
                      const std::vector<std::vector<worker::StepTiming>>& per_rank, size_t first,
                      size_t count) {
  PhaseResult r;
  r.phase = phase;
  std::vector<double> steps, comms, computes, mbs, calls;
  for (size_t i = first; i < first + count; ++i) {
    double comm = 0, mb = 0, n = 0;
    for (const auto& t : per_rank) {
      comm = std::max(comm, t[i].comm_seconds);
      mb = std::max(mb, t[i].comm_bytes / 1e6);
      n = std::max(n, static_cast<double>(t[i].comm_calls));
    }
    calls.push_back(n);
    steps.push_back(wall[i]);
    comms.push_back(comm);
    computes.push_back(std::max(0.0, wall[i] - comm));
    mbs.push_back(mb);
    r.tokens_per_step = per_rank[0][i].tokens;
  }
  r.step_s = median(steps);
  r.comm_s = median(comms);
  r.compute_s = median(computes);
  r.comm_mb_max = median(mbs);
  r.calls_max = median(calls);
  r.comm_share = r.step_s > 0 ? r.comm_s / r.step_s : 0;
  r.tokens_per_s = r.step_s > 0 ? r.tokens_per_step / r.step_s : 0;
  return r;
}

// Every rank's step timings to world rank 0 (raw world: not part of any measured step).
std::vector<std::vector<worker::StepTiming>> gather_timings(comm::Communicator& world,
                                                            const std::vector<worker::StepTiming>& mine) {
  static_assert(std::is_trivially_copyable_v<worker::StepTiming>);
  const size_t bytes = mine.size() * sizeof(worker::StepTiming);
  std::vector<uint8_t> all(bytes * static_cast<size_t>(world.size()));
  if (world.size() == 1) std::memcpy(all.data(), mine.data(), bytes);
  else world.all_gather(mine.data(), bytes, all.data(), DType::kU8, Device::kCPU);
  std::vector<std::vector<worker::StepTiming>> out(static_cast<size_t>(world.size()));
  for (size_t r = 0; r < out.size(); ++r) {
    out[r].resize(mine.size());
    std::memcpy(out[r].data(), all.data() + r * bytes, bytes);
  }
  return out;
}

nlohmann::json run_layout(const Args& a, comm::Communicator& world, const std::string& spec,
                          worker::MoeDispatch dispatch) {
  worker::ExecutorOptions o;
  o.parallel = worker::parse_parallel(spec);
  o.dispatch = dispatch;
  o.threads = a.threads > 0 ? a.threads
                            : std::max(1, static_cast<int>(std::thread::hardware_concurrency()) / world.size());
  o.time_comm = true;
  o.moe_skip_dispatch_when_ep_is_tp = a.skip_dispatch;
  o.block_size = 16;
  const int ctx = std::max(a.prefill_tokens, a.decode_context + a.decode_steps + 1);
  const int per_seq = (ctx + o.block_size - 1) / o.block_size;
  o.num_blocks = per_seq * std::max(a.prefill_seqs, a.decode_seqs);
  o.num_window_blocks = o.num_blocks;
  Timer load;
  worker::RankExecutor ex(a.model, o, world);
  const double load_s = load.seconds();
  const int vocab = ex.config().vocab_size;
  const bool sliding = ex.kv_pool_sizes().window > 0;

  std::vector<double> wall;  // rank 0: per run_step
  size_t n_prefill = 0, n_decode = 0, decode_first = 0;
  if (world.rank() == 0) {
    uint64_t step = 0;
    auto run = [&](worker::StepPlan plan) {
      Timer t;
      ex.run_step(&plan);
      wall.push_back(t.seconds());
    };
    // Warm-up: one prefill step pages the weights in and sizes the buffers.
    run(make_step(a.prefill_seqs, 0, a.prefill_tokens, per_seq, vocab, sliding, step++));
    for (int i = 0; i < a.prefill_steps; ++i, ++n_prefill)
      run(make_step(a.prefill_seqs, 0, a.prefill_tokens, per_seq, vocab, sliding, step++));
    run(make_step(a.decode_seqs, 0, a.decode_context, per_seq, vocab, sliding, step++));  // decode context
    decode_first = wall.size();
    for (int i = 0; i < a.decode_steps; ++i, ++n_decode)
      run(make_step(a.decode_seqs, a.decode_context + i, 1, per_seq, vocab, sliding, step++));
    worker::StepPlan stop;
    stop.command = worker::StepCommand::kShutdown;
    ex.run_step(&stop);
  } else {
    for (;;) {
      worker::StepPlan plan;
      ex.run_step(&plan);
      if (plan.command == worker::StepCommand::kShutdown) break;
    }
  }
  const auto per_rank = gather_timings(world, ex.step_timings());
  // Per-group communication seconds of each rank over the whole run (all steps).
  nlohmann::json groups = nlohmann::json::object();
  for (const char* g : {"tp", "ep", "pp", "dp", "world"}) {
    float s = static_cast<float>(ex.comm_stats()->group_total(g).seconds), all_s = 0;
    std::vector<float> v(static_cast<size_t>(world.size()));
    if (world.size() > 1) world.all_gather(&s, 1, v.data(), DType::kF32, Device::kCPU);
    else v[0] = s;
    for (float x : v) all_s = std::max(all_s, x);
    groups[g] = all_s;
  }
  if (world.rank() != 0) return {};
  const auto pre = summarize("prefill", wall, per_rank, 1, n_prefill);
  const auto dec = summarize("decode", wall, per_rank, decode_first, n_decode);
  nlohmann::json j;
  j["layout"] = spec;
  j["np"] = world.size();
  j["dispatch"] = worker::moe_dispatch_name(dispatch);
  j["threads_per_rank"] = o.threads;
  j["ep_tp_dispatch"] = o.parallel.ep == o.parallel.tp && o.parallel.tp > 1
                            ? (a.skip_dispatch ? "skipped (all-reduce of slots)" : "run") : "-";
  j["load_seconds"] = load_s;
  j["comm_seconds_by_group_max_over_ranks"] = groups;
  for (const auto* p : {&pre, &dec})
    j[p->phase] = {{"tokens_per_step", p->tokens_per_step}, {"step_ms", p->step_s * 1e3},
                   {"comm_ms", p->comm_s * 1e3},           {"compute_ms", p->compute_s * 1e3},
                   {"comm_share", p->comm_share},          {"tokens_per_s", p->tokens_per_s},
                   {"comm_mb_per_step_max_rank", p->comm_mb_max}, {"comm_calls_per_step_max_rank", p->calls_max}};
  return j;
}

void print_row(const nlohmann::json& j) {
  for (const char* phase : {"prefill", "decode"}) {
    const auto& p = j[phase];
    std::printf("| %-14s | %d | %-9s | %-7s | %5d | %9.1f | %8.1f | %9.1f | %5.1f%% | %8.1f | %7.2f | %5.0f |\n",
                j["layout"].get<std::string>().c_str(), j["np"].get<int>(),
                j["dispatch"].get<std::string>().c_str(), phase, p["tokens_per_step"].get<int>(),
                p["step_ms"].get<double>(), p["comm_ms"].get<double>(), p["compute_ms"].get<double>(),
                100 * p["comm_share"].get<double>(), p["tokens_per_s"].get<double>(),
                p["comm_mb_per_step_max_rank"].get<double>(), p["comm_calls_per_step_max_rank"].get<double>());
  }
  std::fflush(stdout);
}

int run(int argc, char** argv) {
  comm::MpiRuntime mpi(&argc, &argv);
  configure_logging("warn", mpi.world_rank());
  const Args a = parse(argc, argv);
  auto world = mpi.world(std::chrono::milliseconds(static_cast<int64_t>(a.timeout_s * 1000)));
  nlohmann::json rows = nlohmann::json::array();
  if (world->rank() == 0) {
    std::printf("model %s (%s), %d ranks, prefill %d x %d tokens, decode %d seqs (context %d, %d steps)\n",
                a.label.c_str(), a.model.c_str(), world->size(), a.prefill_seqs, a.prefill_tokens,
                a.decode_seqs, a.decode_context, a.decode_steps);
    std::printf("| layout | np | dispatch | phase | tok/step | step ms | comm ms | compute ms | comm %% | tok/s | comm MB/step | calls/step |\n");
    std::printf("|---|---|---|---|---|---|---|---|---|---|---|---|\n");
  }
  for (const auto& spec : a.layouts) {
    const auto parallel = worker::parse_parallel(spec);
    if (parallel.world_size() != world->size()) continue;
    std::vector<worker::MoeDispatch> dispatches{worker::MoeDispatch::kAllGather};
    if (parallel.ep > 1) dispatches.push_back(worker::MoeDispatch::kAllToAll);
    for (auto d : dispatches) {
      auto row = run_layout(a, *world, spec, d);
      if (world->rank() == 0) {
        print_row(row);
        rows.push_back(row);
      }
    }
  }
  if (world->rank() == 0 && !a.out.empty()) {
    const std::filesystem::path out(a.out);
    if (out.has_parent_path()) std::filesystem::create_directories(out.parent_path());
    nlohmann::json doc = {{"model", a.label},
                          {"model_dir", a.model},
                          {"np", world->size()},
                          {"comm_timeout_s", a.timeout_s},
                          {"prefill", {{"sequences", a.prefill_seqs}, {"tokens", a.prefill_tokens}, {"steps", a.prefill_steps}}},
                          {"decode", {{"sequences", a.decode_seqs}, {"context", a.decode_context}, {"steps", a.decode_steps}}},
                          {"rows", rows}};
    std::ofstream(out) << doc.dump(2) << "\n";
    std::printf("wrote %s\n", a.out.c_str());
  }
  return 0;
}

}  // namespace
}  // namespace gossamer

int main(int argc, char** argv) {
  try {
    return gossamer::run(argc, argv);
  } catch (const std::exception& e) {
    gossamer::comm::MpiRuntime::abort(std::string("bench_scaling: ") + e.what(), 2);
  }
}
