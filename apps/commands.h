#pragma once
// Each verb of the `gossamer` binary lives in its own apps/cmd_<verb>.cpp and registers
// itself here. A verb's callback throws gossamer::Error on bad input; main() prints it
// and exits non-zero.
#include <CLI/CLI.hpp>

namespace gossamer::apps {

void add_version_command(CLI::App& app);
void add_inspect_command(CLI::App& app);
void add_synth_command(CLI::App& app);
void add_eval_logits_command(CLI::App& app);
void add_generate_command(CLI::App& app);
void add_bench_command(CLI::App& app);
void add_tokenize_commands(CLI::App& app);      // tokenize, detokenize
void add_chat_template_command(CLI::App& app);
void add_serve_command(CLI::App& app);
void add_submit_command(CLI::App& app);
void add_chat_command(CLI::App& app);
void add_loadgen_command(CLI::App& app);
void add_status_command(CLI::App& app);
void add_gateway_command(CLI::App& app);
void add_keygen_command(CLI::App& app);

}  // namespace gossamer::apps
