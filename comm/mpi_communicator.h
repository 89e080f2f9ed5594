#pragma once
// The `mpi` backend: CPU buffers over MPI (Open MPI / MPICH). The header does not include
// <mpi.h>; only comm/*.cpp sees MPI types.
//
// How it stays out of hangs: every communicator has MPI_ERRORS_RETURN, every MPI return
// code is checked, and every operation is started non-blocking (MPI_Iallreduce, MPI_Isend,
// ...) and polled with MPI_Test against the communicator's deadline. A peer that died or
// skipped the collective turns into Error(kComm) "comm group 'tp' (rank 1 of 2, mpi):
// all_reduce of 4096 F32 timed out after 60000 ms ...", not a hang. (Open MPI's launcher
// may kill the whole job first when a rank exits without MPI_Finalize; both end the job in
// bounded time.)
#include <chrono>
#include <memory>
#include <string>

#include "comm/communicator.h"

namespace gossamer::comm {

// True when this build has the MPI backend (GOSSAMER_MPI=ON).
bool mpi_backend_available();

// A duplicate of MPI_COMM_WORLD as a Communicator. MPI must be initialized (MpiRuntime).
// A world of size 1 gives a local communicator and no MPI call is made on it.
// Throws kUnsupported when the build has no MPI.
std::unique_ptr<Communicator> make_mpi_world(std::chrono::milliseconds timeout = kDefaultTimeout,
                                             const std::string& name = "world");

}  // namespace gossamer::comm
