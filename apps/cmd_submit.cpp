// gossamer submit: send one request to a running server and print its stream.
#include <fstream>
#include <iostream>
#include <sstream>

#include "apps/client_flags.h"
#include "apps/commands.h"
#include "client/submit.h"
#include "core/error.h"

namespace gossamer::apps {

void add_submit_command(CLI::App& app) {
  auto o = std::make_shared<client::SubmitOptions>();
  auto flags = std::make_shared<ParamFlags>();
  auto prompt = std::make_shared<std::string>();
  auto messages = std::make_shared<std::string>();
  auto tokens = std::make_shared<std::string>();
  auto system = std::make_shared<std::string>();
  auto no_stream = std::make_shared<bool>(false);
  auto exit_code = std::make_shared<int>(0);
  auto* cmd = app.add_subcommand("submit", "Send one request to a server and stream the answer");
  cmd->add_option("--endpoint", o->endpoint, "Server address")->capture_default_str();
  cmd->add_option("--id", o->id, "Request id (default: generated)");
  auto* p = cmd->add_option("--prompt", *prompt, "Prompt text (a user turn)");
  auto* m = cmd->add_option("--messages", *messages, "File with an OpenAI-style JSON messages array ('-' = stdin)");
  auto* t = cmd->add_option("--tokens", *tokens, "Prompt as comma-separated token ids (no chat template)");
  p->excludes(m)->excludes(t);
  m->excludes(t);
  cmd->add_option("--system", *system, "System message sent before --prompt");
  flags->add_to(cmd);
  cmd->add_flag("--json", o->json, "Print one JSON document at the end instead of the stream");
  cmd->add_flag("--show-thinking", o->show_thinking, "Also print the analysis channel (to stderr)");
  cmd->add_flag("--no-stream", *no_stream, "Ask for the whole output in the final reply");
  cmd->callback([=] {
    client::SubmitOptions opts = *o;
    if (!prompt->empty()) opts.prompt = *prompt;
    if (!messages->empty()) {
      std::stringstream ss;
      if (*messages == "-") {
        ss << std::cin.rdbuf();
      } else {
        std::ifstream f(*messages);
        if (!f) GOSSAMER_THROW(kNotFound, "--messages: cannot read {}", *messages);
        ss << f.rdbuf();
      }
      opts.messages_json = ss.str();
    }
    if (!tokens->empty()) opts.tokens = client::parse_token_list(*tokens);
    if (!opts.prompt && !opts.messages_json && !opts.tokens)
      GOSSAMER_THROW(kInvalidArgument, "submit: give --prompt, --messages or --tokens");
    if (!system->empty()) opts.system = *system;
    opts.params = flags->params();
    opts.params.stream = !*no_stream;
    *exit_code = client::run_submit(opts, std::cout, std::cerr);
    if (*exit_code != 0) throw CLI::RuntimeError(*exit_code);
  });
}

}  // namespace gossamer::apps
