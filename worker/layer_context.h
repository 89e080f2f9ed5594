#pragma once
// What every layer of one forward step shares: where kernels run, the model's constants,
// this rank's process groups (null or size 1 = not split: no collective) and the dump sink.
#include "kernels/exec.h"
#include "model/config.h"
#include "worker/dump.h"

namespace gossamer::comm {
class Communicator;
}

namespace gossamer::worker {

// How tokens reach the ranks owning their experts (docs/ARCHITECTURE.md, "Expert parallelism").
enum class MoeDispatch {
  kAllGather,  // all-gather the tokens, reduce-scatter the outputs: static shapes, small EP
  kAllToAll,   // all-to-all-v of just the routed rows, both ways: large EP, across nodes
};
const char* moe_dispatch_name(MoeDispatch d);
MoeDispatch parse_moe_dispatch(const std::string& name);

class Mapping;

struct LayerContext {
  kernels::Exec exec;
  const model::ModelConfig* config = nullptr;
  // Who owns which heads, experts, vocab rows, token shares and stages: the one answer
  // every layer asks (never re-derived from group ranks). Set by RankExecutor.
  const Mapping* mapping = nullptr;
  // Each group in two parts. The activation part carries step data that lives on the
  // executing device (hidden states, expert rows and ids, logits); the host part carries
  // host-side values (row counts, sampling candidates). On the CPU both are the same MPI
  // communicator; with a device communicator (NCCL) the activation part is that one and
  // the host part stays on MPI, so a device communicator never sees a host buffer.
  comm::Communicator* tp = nullptr;       // attention heads / vocab split
  comm::Communicator* ep = nullptr;       // experts split (token dispatch)
  comm::Communicator* pp = nullptr;       // pipeline stages, group rank = stage index
  comm::Communicator* tp_host = nullptr;  // host part of tp
  comm::Communicator* ep_host = nullptr;  // host part of ep
  MoeDispatch dispatch = MoeDispatch::kAllGather;
  // The EP group is exactly this rank's TP group (ep == tp > 1). The TP ranks hold the same
  // tokens after the o_proj all-reduce, so the MoE layer skips the dispatch: each rank runs
  // its experts' pairs of all tokens and one all-reduce of the per-slot outputs brings them
  // together (GptOssForward::moe_block). Set by RankExecutor from the Mapping.
  bool ep_spans_tp = false;
  DumpSink* dump = nullptr;

  bool tp_split() const;
  bool ep_split() const;
};

}  // namespace gossamer::worker
