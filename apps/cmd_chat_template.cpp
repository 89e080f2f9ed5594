// `gossamer chat-template --input FILE.json`: renders a chat request in the harmony format
// exactly as gpt-oss's chat template does and prints {"rendered": "...", "ids": [...]}.
// The file holds {"messages": [...], "tools": [...]|null, "reasoning_effort": "...",
// "current_date": "YYYY-MM-DD", "add_generation_prompt": true}.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>

#include "apps/commands.h"
#include "core/error.h"
#include "harmony/completion.h"
#include "tokenizer/locate.h"

namespace gossamer::apps {
namespace {

struct ChatTemplateArgs {
  std::string tokenizer, model, input;
  bool text_only = false;
};

void run_chat_template(const ChatTemplateArgs& a) {
  std::stringstream buf;
  if (a.input == "-") {
    buf << std::cin.rdbuf();
  } else {
    std::ifstream in(a.input, std::ios::binary);
    if (!in) GOSSAMER_THROW(kNotFound, "cannot open {}", a.input);
    buf << in.rdbuf();
  }
  harmony::Json request;
  try {
    request = harmony::Json::parse(buf.str());
  } catch (const nlohmann::json::exception& e) {
    GOSSAMER_THROW(kInvalidArgument, "{} is not valid JSON: {}", a.input, e.what());
  }
  const harmony::ChatRequest chat = harmony::chat_request_from_json(request);
  nlohmann::ordered_json out;
  if (a.text_only) {
    out["rendered"] = harmony::render_text(chat);
  } else {
    const Tokenizer tok = Tokenizer::load(locate_tokenizer({a.tokenizer, a.model}));
    const harmony::RenderedPrompt p = harmony::render(tok, chat);
    out["rendered"] = p.text;
    out["ids"] = p.ids;
  }
  std::printf("%s\n", out.dump().c_str());
}

}  // namespace

void add_chat_template_command(CLI::App& app) {
  auto args = std::make_shared<ChatTemplateArgs>();
  auto* cmd = app.add_subcommand("chat-template", "Render chat messages in gpt-oss's harmony format (text and ids)");
  cmd->add_option("--tokenizer", args->tokenizer, "tokenizer.json (or a folder holding one); overrides --model");
  cmd->add_option("--model", args->model, "model directory whose tokenizer.json to use");
  cmd->add_option("--input", args->input, "request JSON file ('-' = stdin)")->required();
  cmd->add_flag("--text-only", args->text_only, "print only the rendered text (no tokenizer needed)");
  cmd->callback([args] { run_chat_template(*args); });
}

}  // namespace gossamer::apps
