#pragma once
// The world communicator of a verb that may run under mpirun: MPI when the process was
// started by an MPI launcher (Open MPI, MPICH/Hydra, Slurm PMI), a local one-rank world
// otherwise, so `gossamer serve --model DIR` needs no MPI at all.
#include <chrono>
#include <functional>
#include <memory>

#include "comm/communicator.h"
#include "comm/mpi_runtime.h"

namespace gossamer::apps {

struct World {
  std::unique_ptr<comm::MpiRuntime> mpi;  // null for a local world
  std::unique_ptr<comm::Communicator> comm;
  int rank() const { return comm->rank(); }
  int size() const { return comm->size(); }
};

// True when an MPI launcher started this process (its environment says so).
bool launched_by_mpi();
// Initializes MPI (FUNNELED) when launched by MPI; `timeout` is the collectives' deadline.
World make_world(std::chrono::milliseconds timeout);

// Runs body on this rank; in a multi-rank job an error on any rank ends the whole job
// with its message (peers blocked in a collective would otherwise wait for their deadline).
void run_on_all_ranks(World& world, const std::function<void()>& body);

}  // namespace gossamer::apps
