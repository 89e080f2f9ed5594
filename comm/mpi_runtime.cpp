#include "comm/mpi_runtime.h"

#include <cstdio>
#include <cstdlib>

#include "comm/mpi_communicator.h"
#include "core/error.h"

#if GOSSAMER_HAVE_MPI
#include <mpi.h>
#endif

namespace gossamer::comm {

#if GOSSAMER_HAVE_MPI

MpiRuntime::MpiRuntime(int* argc, char*** argv) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (!initialized) {
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
      GOSSAMER_THROW(kComm, "MPI_Init_thread failed");
    owns_ = true;
    if (provided < MPI_THREAD_FUNNELED)
      GOSSAMER_THROW(kComm, "MPI provides thread level {}, Gossamer needs FUNNELED ({})",
                     provided, static_cast<int>(MPI_THREAD_FUNNELED));
  }
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &size_);
  char name[MPI_MAX_PROCESSOR_NAME];
  int len = 0;
  MPI_Get_processor_name(name, &len);
  host_.assign(name, static_cast<size_t>(len));
}

MpiRuntime::~MpiRuntime() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (owns_ && !finalized) MPI_Finalize();
}

std::unique_ptr<Communicator> MpiRuntime::world(std::chrono::milliseconds timeout,
                                                const std::string& name) const {
  return make_mpi_world(timeout, name);
}

void MpiRuntime::abort(const std::string& message, int code) {
  int initialized = 0, finalized = 0, rank = -1;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::fprintf(stderr, "gossamer: rank %d: fatal: %s\n", rank, message.c_str());
  std::fflush(stderr);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

#else  // one-rank stand-in

MpiRuntime::MpiRuntime(int*, char***) : host_("localhost") {}
MpiRuntime::~MpiRuntime() = default;

std::unique_ptr<Communicator> MpiRuntime::world(std::chrono::milliseconds timeout,
                                                const std::string& name) const {
  auto local = make_local_communicator(name);
  local->set_timeout(timeout);
  return local;
}

void MpiRuntime::abort(const std::string& message, int code) {
  std::fprintf(stderr, "gossamer: rank 0: fatal: %s\n", message.c_str());
  std::fflush(stderr);
  std::_Exit(code);
}

#endif

}  // namespace gossamer::comm
