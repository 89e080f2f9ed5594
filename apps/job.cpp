#include "apps/job.h"

#include <cstdlib>

#include "core/error.h"

namespace gossamer::apps {

bool launched_by_mpirun() {
  // The one place that reads the launcher's environment.
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_SIZE"})
    if (std::getenv(v)) return true;
  return false;
}

Job::Job(int* argc, char*** argv, std::chrono::milliseconds comm_timeout) {
#ifdef GOSSAMER_HAVE_MPI
  if (launched_by_mpirun()) {
    mpi_ = std::make_unique<comm::MpiRuntime>(argc, argv);
    world_ = mpi_->world(comm_timeout);
    return;
  }
#else
  if (launched_by_mpirun())
    GOSSAMER_THROW(kUnsupported, "launched by mpirun, but this gossamer was built without MPI");
#endif
  (void)argc;
  (void)argv;
  world_ = comm::make_local_communicator("world");
}

Job::~Job() {
  world_.reset();  // before MPI_Finalize
}

void Job::run(const std::function<void()>& body) {
  if (size() == 1) {
    body();
    return;
  }
  try {
    body();
  } catch (const std::exception& e) {
    comm::MpiRuntime::abort(e.what(), 1);
  }
}

}  // namespace gossamer::apps
