// gossamer chat: an interactive conversation with a running server.
#include <unistd.h>

#include <iostream>

#include "apps/client_flags.h"
#include "apps/commands.h"
#include "client/chat.h"

namespace gossamer::apps {

void add_chat_command(CLI::App& app) {
  auto o = std::make_shared<client::ChatOptions>();
  auto flags = std::make_shared<ParamFlags>();
  auto system = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("chat", "Chat with a server (one line per turn; /reset, /quit)");
  cmd->add_option("--endpoint", o->endpoint, "Server address")->capture_default_str();
  cmd->add_option("--system", *system, "System message");
  flags->add_to(cmd);
  cmd->add_flag("--show-thinking", o->show_thinking, "Also print the analysis channel");
  cmd->callback([=] {
    client::ChatOptions opts = *o;
    if (!system->empty()) opts.system = *system;
    opts.params = flags->params();
    opts.prompts = ::isatty(STDIN_FILENO);
    const int rc = client::run_chat(opts, std::cin, std::cout);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace gossamer::apps
