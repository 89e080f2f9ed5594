#include "apps/mpi_world.h"

#include <cstdlib>

namespace gossamer::apps {

bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "MPI_LOCALNRANKS"})
    if (std::getenv(v)) return true;
  return false;
}

World make_world(std::chrono::milliseconds timeout) {
  World w;
  if (launched_by_mpi()) {
    w.mpi = std::make_unique<comm::MpiRuntime>(nullptr, nullptr);
    w.comm = w.mpi->world(timeout);
  } else {
    w.comm = comm::make_local_communicator("world");
    w.comm->set_timeout(timeout);
  }
  return w;
}

void run_on_all_ranks(World& world, const std::function<void()>& body) {
  if (!world.mpi || world.size() == 1) {
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
