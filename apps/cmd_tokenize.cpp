#include "apps/commands.h"

namespace gossamer::apps {
// Placeholder until the tokenizer lands.
void add_tokenize_commands(CLI::App& app) { (void)app; }
}  // namespace gossamer::apps
