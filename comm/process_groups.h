#pragma once
// The process groups of one parallel layout, made from the world group with split().
// comm/ does not know worker::Mapping (worker depends on comm, not the reverse): the
// Mapping describes each group as a (color, key) pair, Mapping::group_layout(), and this
// file turns the layout into communicators.
//
//   comm::ProcessGroups groups = comm::make_process_groups(*world, mapping.group_layout());
//   groups.tp->all_reduce_sum(o_out, n_tokens * hidden, Device::kCPU);
#include <memory>

#include "comm/communicator.h"

namespace gossamer::comm {

// Ranks with equal color form one group, ordered by key.
struct GroupSpec {
  int color = 0;
  int key = 0;
};

// This rank's place in each group of the layout (rank order DP × PP × TP, TP innermost).
struct GroupLayout {
  GroupSpec tp;  // the TP ranks of one (dp, pp): attention heads and vocab slice
  GroupSpec dp;  // the DP replicas of one (pp, tp)
  GroupSpec pp;  // the stages of one (dp, tp), ordered by stage: send/recv hidden states
  GroupSpec ep;  // ep consecutive ranks of the DP × TP ranks of one stage: token dispatch
};

struct ProcessGroups {
  std::unique_ptr<Communicator> tp, dp, pp, ep;
};

// Collective over `world` (every rank calls it, in the same order): four splits. Groups of
// size 1 come back as local communicators and never call MPI. Names: "tp", "dp", "pp", "ep".
ProcessGroups make_process_groups(Communicator& world, const GroupLayout& layout);

}  // namespace gossamer::comm
