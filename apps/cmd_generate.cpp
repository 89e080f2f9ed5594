// gossamer generate: prefill a prompt, then decode through the KV cache.
#include <cstdio>

#include <nlohmann/json.hpp>

#include "apps/commands.h"
#include "apps/common.h"

namespace gossamer::apps {

void add_generate_command(CLI::App& app) {
  auto* cmd = app.add_subcommand("generate", "Generate tokens from a prompt");
  auto model = std::make_shared<ModelOptions>();
  auto tokens = std::make_shared<std::string>();
  auto gen = std::make_shared<worker::GenerateOptions>();
  auto json = std::make_shared<bool>(false);
  auto stop = std::make_shared<std::string>();
  model->add_to(cmd);
  cmd->add_option("--tokens", *tokens, "Prompt as comma-separated token ids")->required();
  cmd->add_option("--max-tokens", gen->max_tokens, "Tokens to generate")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--temperature", gen->sampling.temperature, "0 = greedy")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--top-p", gen->sampling.top_p, "Nucleus sampling mass (1 = off)")
      ->check(CLI::Range(0.0f, 1.0f))->capture_default_str();
  cmd->add_option("--top-k", gen->sampling.top_k, "Keep the k most likely tokens (0 = off)")
      ->check(CLI::NonNegativeNumber)->capture_default_str();
  cmd->add_option("--seed", gen->sampling.seed, "Sampling seed")->capture_default_str();
  cmd->add_option("--stop-ids", *stop, "Comma-separated ids that end generation");
  cmd->add_flag("--json", *json, "Print one JSON object instead of plain ids");
  cmd->callback([=] {
    const auto prompt = parse_ids(*tokens);
    auto options = model->engine_options();
    options.max_context = std::max<int>(options.max_context,
                                        static_cast<int>(prompt.size()) + gen->max_tokens);
    worker::Engine engine(model->model_dir, options);
    worker::GenerateOptions g = *gen;
    if (!stop->empty()) g.stop_ids = parse_ids(*stop);
    auto result = engine.generate(prompt, g);
    if (*json) {
      nlohmann::json j;
      j["prompt_tokens"] = result.prompt_tokens;
      j["tokens"] = result.tokens;
      j["finish_reason"] = result.finish_reason;
      j["prefill_seconds"] = result.prefill_seconds;
      j["decode_seconds"] = result.decode_seconds;
      std::printf("%s\n", j.dump().c_str());
    } else {
      for (size_t i = 0; i < result.tokens.size(); ++i)
        std::printf("%s%d", i ? "," : "", result.tokens[i]);
      std::printf("\n");
    }
  });
}

}  // namespace gossamer::apps
