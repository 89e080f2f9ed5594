#include "apps/client_flags.h"

namespace gossamer::apps {

void ParamFlags::add_to(CLI::App* cmd) {
  cmd->add_option("--max-tokens", max_tokens, "Tokens to generate (server default when unset)");
  cmd->add_option("--temperature", temperature, "0 = greedy (server default 1)");
  cmd->add_option("--top-p", top_p, "Nucleus mass in (0, 1]");
  cmd->add_option("--top-k", top_k, "Keep the k most likely tokens (0 = off)");
  cmd->add_option("--seed", seed, "Sampling seed");
  cmd->add_option("--stop", stop, "Stop string (repeatable)");
  cmd->add_option("--reasoning-effort", reasoning_effort, "low, medium or high")
      ->check(CLI::IsMember({"low", "medium", "high"}));
}

protocol::Params ParamFlags::params() const {
  protocol::Params p;
  if (max_tokens > 0) p.max_tokens = max_tokens;
  if (temperature >= 0) p.temperature = temperature;
  if (top_p >= 0) p.top_p = top_p;
  if (top_k >= 0) p.top_k = top_k;
  if (seed >= 0) p.seed = static_cast<uint64_t>(seed);
  p.stop = stop;
  if (reasoning_effort == "low") p.reasoning_effort = protocol::ReasoningEffort::kLow;
  if (reasoning_effort == "medium") p.reasoning_effort = protocol::ReasoningEffort::kMedium;
  if (reasoning_effort == "high") p.reasoning_effort = protocol::ReasoningEffort::kHigh;
  return p;
}

}  // namespace gossamer::apps
