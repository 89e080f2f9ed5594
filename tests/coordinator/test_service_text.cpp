// Text prompts end to end, on a tiny model written at test time with the gpt-oss
// vocabulary: harmony rendering + tokenizing at the front door, harmony channels in the
// stream, and the prefix cache serving the shared system header of a second chat.
#include <gtest/gtest.h>

#include "server_process.h"
#include "service_helpers.h"

namespace gossamer::testing {
namespace {

std::string big_vocab_model() {
  const std::string dir = "/tmp/gossamer-svc-test-vocab-" + std::to_string(::getpid());
  const std::string cmd = std::string(GOSSAMER_BINARY) + " --log-level warn synth --preset tiny --vocab 201088 --seed 7 --force --out " + dir + " > /dev/null";
  if (std::system(cmd.c_str()) != 0) return "";
  return dir;
}

protocol::Submit chat(const std::string& id, const std::string& user) {
  protocol::Submit s;
  s.id = id;
  s.messages = std::vector<protocol::ChatMessage>{{protocol::Role::kSystem, "You are terse.", {}, {}, {}, {}},
                                                  {protocol::Role::kUser, user, {}, {}, {}, {}}};
  s.params.max_tokens = 24;
  s.params.temperature = 0;
  s.params.reasoning_effort = protocol::ReasoningEffort::kLow;
  return s;
}

TEST(ServiceText, ChatPromptsStreamAndShareThePrefixCache) {
  const std::string model = big_vocab_model();
  ASSERT_FALSE(model.empty());
  ServerProcess server(0, "--model " + model + " --threads 1 --max-context 1024 --kv-blocks 256 --kv-block-size 16", 7);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client c(server.endpoint());
  auto first = run_one(c, chat("a", "What is the capital of France?"));
  ASSERT_TRUE(first.ok()) << (first.error ? first.error->message : server.log());
  EXPECT_GT(first.done->usage.prompt_tokens, 32);
  EXPECT_EQ(first.token_ids.size(), 24u);
  EXPECT_FALSE(first.seq_gap);
  // The same conversation start with another question: its first full blocks (system and
  // developer header) come from the cache.
  auto second = run_one(c, chat("b", "And the capital of Spain, please?"));
  ASSERT_TRUE(second.ok());
  EXPECT_GE(second.done->usage.cached_tokens.value_or(0), 16);
  auto st = c.stats(5s);
  EXPECT_GT(st.extra.value("prefix_cache_hit_blocks", 0), 0);
  EXPECT_EQ(st.kv_blocks_used, 0);
  // Streamed text equals the non-streamed output of the same greedy request. That request
  // takes every full block of the first one's prompt from the cache, in both KV pools (the
  // sliding-window layers' blocks near the cut included), so equal output also says the
  // cached K/V is what recomputing would give.
  auto whole = chat("c", "What is the capital of France?");
  whole.params.stream = false;
  auto w = run_one(c, whole);
  ASSERT_TRUE(w.ok() && w.done->output);
  EXPECT_GT(w.done->usage.cached_tokens.value_or(0), first.done->usage.prompt_tokens - 16);
  EXPECT_EQ(first.final, w.done->output->final);
  EXPECT_EQ(first.analysis, w.done->output->analysis);
  EXPECT_EQ(first.commentary, w.done->output->commentary);
  server.stop(15s);
  std::system(("rm -rf " + model).c_str());
}

}  // namespace
}  // namespace gossamer::testing
