// The `gossamer` binary: one verb per apps/cmd_*.cpp.
#include <cstdio>
#include <exception>

#include "apps/commands.h"
#include "core/error.h"
#include "core/log.h"

int main(int argc, char** argv) {
  CLI::App app{"gossamer: serve OpenAI's gpt-oss models on one box or many"};
  app.require_subcommand(1);
  std::string log_level = "info";
  app.add_option("--log-level", log_level, "trace, debug, info, warn, error, off")
      ->capture_default_str();
  using namespace gossamer::apps;
  add_version_command(app);
  add_inspect_command(app);
  add_synth_command(app);
  add_eval_logits_command(app);
  add_generate_command(app);
  add_bench_command(app);
  add_tokenize_commands(app);
  add_chat_template_command(app);
  add_serve_command(app);
  add_submit_command(app);
  add_chat_command(app);
  add_loadgen_command(app);
  add_status_command(app);
  add_gateway_command(app);
  add_keygen_command(app);

  app.parse_complete_callback([&] { gossamer::configure_logging(log_level); });
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  } catch (const gossamer::Error& e) {
    std::fprintf(stderr, "gossamer: error (%s): %s\n", gossamer::error_code_name(e.code()), e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "gossamer: error: %s\n", e.what());
    return 1;
  }
  return 0;
}
