// The service over real sockets, one rank: streaming text, greedy equivalence with
// `gossamer generate` (alone and inside a batch), stop strings.
#include <gtest/gtest.h>

#include <thread>

#include "server_process.h"
#include "service_helpers.h"

namespace gossamer::testing {
namespace {

const std::string kServeArgs = "--model " + tiny_model() + " --threads 1 --max-context 512 --kv-blocks 512 --kv-block-size 8";

TEST(ServiceStream, DeltasConcatenateToTheFinalText) {
  ServerProcess server(0, kServeArgs, 1);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client c(server.endpoint());
  auto streamed = run_one(c, token_submit("s", {11, 12, 13, 14, 15}, 40));
  auto whole = run_one(c, token_submit("w", {11, 12, 13, 14, 15}, 40, 0, false));
  ASSERT_TRUE(streamed.ok()) << (streamed.error ? streamed.error->message : "");
  ASSERT_TRUE(whole.ok());
  EXPECT_FALSE(streamed.seq_gap);
  EXPECT_GT(streamed.deltas, 1u);
  EXPECT_EQ(streamed.token_ids.size(), 40u);
  ASSERT_TRUE(whole.done->output.has_value());
  EXPECT_EQ(streamed.final, whole.done->output->final);
  EXPECT_EQ(streamed.analysis, whole.done->output->analysis);
  EXPECT_FALSE(streamed.final.empty());
  EXPECT_EQ(streamed.done->usage.completion_tokens, 40);

  // A stop string from the middle of that text: the stream ends right before it, and the
  // streamed pieces still concatenate to exactly the non-streamed text.
  ASSERT_GT(streamed.final.size(), 12u);
  size_t at = streamed.final.size() / 2;
  while (at > 0 && (static_cast<unsigned char>(streamed.final[at]) & 0xC0) == 0x80) --at;
  size_t end = at + 3;
  while (end < streamed.final.size() && (static_cast<unsigned char>(streamed.final[end]) & 0xC0) == 0x80) ++end;
  const std::string stop = streamed.final.substr(at, end - at);
  const size_t first = streamed.final.find(stop);
  auto s1 = token_submit("stop1", {11, 12, 13, 14, 15}, 40);
  s1.params.stop = {stop};
  auto s2 = s1;
  s2.id = "stop2";
  s2.params.stream = false;
  auto a = run_one(c, s1);
  auto b = run_one(c, s2);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(protocol::finish_reason_string(a.done->finish_reason), std::string("stop"));
  EXPECT_EQ(a.final, streamed.final.substr(0, first));
  EXPECT_EQ(a.final, b.done->output->final);
}

std::vector<int32_t> generate_ids(const std::vector<int32_t>& prompt, int max_tokens) {
  std::string list;
  for (size_t i = 0; i < prompt.size(); ++i) list += (i ? "," : "") + std::to_string(prompt[i]);
  const std::string out = shell(std::string(GOSSAMER_BINARY) + " --log-level warn generate --model " + tiny_model() +
                                " --threads 1 --tokens " + list + " --max-tokens " + std::to_string(max_tokens));
  return parse_ids(out);
}

TEST(ServiceStream, GreedyEqualsGenerateAloneAndInABatch) {
  const std::vector<int32_t> prompt = {5, 6, 7, 8, 9, 10, 300, 301, 302, 1000, 2000, 3000, 17, 18, 19, 20, 21};
  const auto expected = generate_ids(prompt, 24);
  ASSERT_EQ(expected.size(), 24u);

  ServerProcess server(0, kServeArgs + " --max-batch-tokens 64", 2);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client c(server.endpoint());
  auto alone = run_one(c, token_submit("alone", prompt, 24));
  ASSERT_TRUE(alone.ok());
  EXPECT_EQ(alone.token_ids, expected);

  // 15 other requests of other lengths, greedy and sampled, some sharing the prompt's
  // first blocks (prefix cache), start first; the checked one joins the running batch.
  client::Client others(server.endpoint());
  std::vector<std::string> ids;
  for (int i = 0; i < 15; ++i) {
    std::vector<int32_t> p;
    if (i % 3 == 0) p.assign(prompt.begin(), prompt.begin() + 9);
    for (int k = 0; k < 3 + 7 * i % 40; ++k) p.push_back((i * 131 + k * 17) % 4000);
    ids.push_back(others.submit(token_submit("o" + std::to_string(i), p, 20 + i, i % 2 ? 0.8 : 0.0)));
  }
  std::this_thread::sleep_for(50ms);
  auto batched = run_one(c, token_submit("batched", prompt, 24));
  ASSERT_TRUE(batched.ok());
  EXPECT_EQ(batched.token_ids, expected);
  for (const auto& id : ids) {
    client::StreamOptions o;
    o.idle_timeout = 30s;
    auto r = client::collect_stream(others, id, o);
    EXPECT_TRUE(r.ok()) << id;
  }
  auto st = c.stats(5s);
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(st.kv_blocks_used, 0);
  EXPECT_GE(st.completed, 17);
}

}  // namespace
}  // namespace gossamer::testing

namespace gossamer::testing {
namespace {

// A KV pool far too small for the batch: sequences are preempted (blocks freed, requeued,
// recomputed later) and still produce exactly the tokens of `generate`.
TEST(ServiceStream, PreemptedRequestsStillMatchGenerate) {
  ServerProcess server(0, "--model " + tiny_model() + " --threads 1 --max-context 96 --kv-blocks 12 --kv-block-size 8", 9);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client c(server.endpoint());
  std::vector<std::vector<int32_t>> prompts;
  std::vector<std::string> ids;
  for (int i = 0; i < 4; ++i) {
    std::vector<int32_t> p;
    for (int k = 0; k < 20; ++k) p.push_back((i * 977 + k * 31) % 4096);
    prompts.push_back(p);
    ids.push_back(c.submit(token_submit("p" + std::to_string(i), p, 60)));
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    client::StreamOptions o;
    o.idle_timeout = 30s;
    auto r = client::collect_stream(c, ids[i], o);
    ASSERT_TRUE(r.ok()) << (r.error ? r.error->message : "");
    EXPECT_FALSE(r.seq_gap);
    EXPECT_EQ(r.token_ids, generate_ids(prompts[i], 60)) << ids[i];
  }
  auto st = c.stats(5s);
  EXPECT_GT(st.extra.value("preemptions", 0), 0);
  EXPECT_EQ(st.kv_blocks_used, 0);
}

}  // namespace
}  // namespace gossamer::testing
