#include <cstdio>

#include "apps/commands.h"

namespace gossamer::apps {

void add_version_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("version", "Print the version and the backends built in");
  cmd->callback([] {
    std::printf("gossamer 0.1.0\n");
#ifdef GOSSAMER_HAVE_MPI
    std::printf("mpi: yes\n");
#else
    std::printf("mpi: no\n");
#endif
  });
}

}  // namespace gossamer::apps
