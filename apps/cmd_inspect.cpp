#include "apps/commands.h"
#include "core/error.h"

namespace gossamer::apps {
// Placeholder until this verb lands; replaced by its real implementation.
void add_inspect_command(CLI::App& app) { (void)app; }
}  // namespace gossamer::apps
