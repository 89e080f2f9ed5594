// gossamer generate: prefill a prompt, then decode through the KV cache. The prompt is
// token ids (--tokens), one user message (--prompt, rendered in harmony) or a chat
// request file (--messages). Under mpirun every rank runs its shard; rank 0 prints.
#include <cstdio>
#include <fstream>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/common.h"
#include "apps/mpi_world.h"
#include "core/error.h"
#include "harmony/completion.h"
#include "harmony/conversation.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/locate.h"

namespace gossamer::apps {
namespace {

struct PromptOptions {
  std::string tokens, prompt, messages_file, tokenizer, reasoning = "medium";
  bool json = false, show_analysis = false;
  std::string stop;
};

struct Prompt {
  std::vector<int32_t> ids;
  std::optional<Tokenizer> tokenizer;  // set for text prompts
};

Prompt build_prompt(const PromptOptions& p, const std::string& model_dir) {
  Prompt out;
  const int given = !p.tokens.empty() + !p.prompt.empty() + !p.messages_file.empty();
  if (given != 1) GOSSAMER_THROW(kInvalidArgument, "give exactly one of --tokens, --prompt, --messages");
  if (!p.tokens.empty()) {
    out.ids = parse_ids(p.tokens);
    return out;
  }
  out.tokenizer = Tokenizer::load(locate_tokenizer({p.tokenizer, model_dir}));
  harmony::RenderedPrompt rendered;
  if (!p.prompt.empty()) {
    harmony::PromptOptions opts;
    opts.reasoning_effort = harmony::parse_reasoning_effort(p.reasoning);
    rendered = harmony::render_user_prompt(*out.tokenizer, p.prompt, opts);
  } else {
    std::ifstream f(p.messages_file);
    if (!f) GOSSAMER_THROW(kNotFound, "cannot read --messages {}", p.messages_file);
    harmony::Json request;
    try {
      request = harmony::Json::parse(f);
    } catch (const std::exception& e) {
      GOSSAMER_THROW(kInvalidArgument, "--messages {}: not JSON: {}", p.messages_file, e.what());
    }
    rendered = harmony::render_request_json(*out.tokenizer, request);
  }
  out.ids.assign(rendered.ids.begin(), rendered.ids.end());
  return out;
}

void print_result(const PromptOptions& p, const Prompt& prompt, const worker::GenerateResult& r) {
  nlohmann::json j;
  j["prompt_tokens"] = r.prompt_tokens;
  j["tokens"] = r.tokens;
  j["finish_reason"] = r.finish_reason;
  j["prefill_seconds"] = r.prefill_seconds;
  j["decode_seconds"] = r.decode_seconds;
  if (prompt.tokenizer) {
    std::vector<uint32_t> ids(r.tokens.begin(), r.tokens.end());
    auto completion = harmony::parse_completion(*prompt.tokenizer, ids);
    j["text"] = completion.final_text;
    j["analysis"] = completion.analysis_text;
    if (!p.json) {
      if (p.show_analysis && !completion.analysis_text.empty())
        std::printf("[analysis] %s\n[final] ", completion.analysis_text.c_str());
      std::printf("%s\n", completion.final_text.c_str());
      return;
    }
  }
  if (p.json) {
    std::printf("%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
    return;
  }
  for (size_t i = 0; i < r.tokens.size(); ++i) std::printf("%s%d", i ? "," : "", r.tokens[i]);
  std::printf("\n");
}

}  // namespace

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate tokens from a prompt");
  auto model = std::make_shared<ModelOptions>();
  auto p = std::make_shared<PromptOptions>();
  auto gen = std::make_shared<worker::GenerateOptions>();
  model->add_to(cmd);
  cmd->add_option("--tokens", p->tokens, "Prompt as comma-separated token ids");
  cmd->add_option("--prompt", p->prompt, "One user message, rendered in the harmony chat format");
  cmd->add_option("--messages", p->messages_file,
                  "A chat request JSON file ({\"messages\": [...], \"tools\": ..., ...})");
  cmd->add_option("--tokenizer", p->tokenizer, "tokenizer.json (default: the model's, then the fetched one)");
  cmd->add_option("--reasoning-effort", p->reasoning, "low, medium or high (with --prompt)")
      ->check(CLI::IsMember({"low", "medium", "high"}));
  cmd->add_flag("--show-analysis", p->show_analysis, "Also print the analysis channel");
  cmd->add_option("--max-tokens", gen->max_tokens, "Tokens to generate")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--temperature", gen->sampling.temperature, "0 = greedy")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--top-p", gen->sampling.top_p, "Nucleus sampling mass (1 = off)")
      ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  cmd->add_option("--top-k", gen->sampling.top_k, "Keep the k most likely tokens (0 = off)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--seed", gen->sampling.seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--stop-ids", p->stop, "Comma-separated ids that end generation");
  cmd->add_flag("--json", p->json, "Print one JSON object instead of plain ids / text");
  cmd->callback([=] {
    const auto config = model->resolve();
    const Prompt prompt = build_prompt(*p, config.model.path);
    worker::GenerateOptions g = *gen;
    if (!p->stop.empty()) g.stop_ids = parse_ids(p->stop);
    else if (prompt.tokenizer)
      for (uint32_t id : harmony::stop_token_ids(*prompt.tokenizer)) g.stop_ids.push_back(static_cast<int32_t>(id));
    auto options = model->engine_options(config);
    options.max_context = std::max<int>(options.max_context, static_cast<int>(prompt.ids.size()) + g.max_tokens);
    options.max_sequences = 1;
    World world = make_world(config.runtime.comm_timeout());
    run_on_all_ranks(world, [&] {
      worker::Engine engine(config.model.path, options, world.comm.get());
      if (!engine.is_coordinator()) return engine.follow();
      print_result(*p, prompt, engine.generate(prompt.ids, g));
    });
  });
}

}  // namespace gossamer::apps
