#pragma once
// The ranks of one `gossamer` job. Launched by mpirun (Open MPI or PMIx environment
// present) it initialises MPI and hands out the world group; launched alone it is a job of
// one rank with a local world and MPI is never touched.
#include <chrono>
#include <functional>
#include <memory>

#include "comm/communicator.h"
#include "comm/mpi_runtime.h"

namespace gossamer::apps {

class Job {
 public:
  Job(int* argc, char*** argv, std::chrono::milliseconds comm_timeout);
  ~Job();
  comm::Communicator& world() { return *world_; }
  int rank() const { return world_->rank(); }
  int size() const { return world_->size(); }
  bool is_coordinator() const { return rank() == 0; }

  // Runs body; on a multi-rank job an error on any rank ends the whole job with the
  // message (peers blocked in a collective would otherwise wait for their deadline).
  void run(const std::function<void()>& body);

 private:
  std::unique_ptr<comm::MpiRuntime> mpi_;
  std::unique_ptr<comm::Communicator> world_;
};

// True when this process was started by an MPI launcher.
bool launched_by_mpirun();

}  // namespace gossamer::apps
