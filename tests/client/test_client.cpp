// Client library against the fixture server over real tcp://127.0.0.1 sockets.
#include <gtest/gtest.h>

#include "client/client.h"
#include "client/stream.h"
#include "core/error.h"
#include "fixture_server.h"

using namespace gossamer;
using namespace gossamer::client;
using gossamer::test::FixtureServer;
using gossamer::test::FixtureServerOptions;

namespace {

protocol::Submit prompt_request(std::string prompt, bool stream, int64_t max_tokens = 16) {
  protocol::Submit s;
  s.prompt = std::move(prompt);
  s.params.stream = stream;
  s.params.max_tokens = max_tokens;
  return s;
}

// Exactly n messages (generous per-message timeout so a loaded CI box does not flake),
// then nothing more for a short while.
std::vector<protocol::ServerMessage> receive_n(Client& client, size_t n) {
  std::vector<protocol::ServerMessage> got;
  while (got.size() < n) {
    auto m = client.poll(Millis(5000));
    if (!m) break;
    got.push_back(*m);
  }
  if (client.poll(Millis(100))) got.emplace_back(protocol::Accepted{"unexpected extra message", {}});
  return got;
}

}  // namespace

TEST(Client, StreamingDeltasConcatenateToTheNonStreamText) {
  FixtureServer server;
  Client client(server.endpoint());
  const std::string prompt = "the quick brown fox jumps over the lazy dog";
  StreamResult streamed = collect_stream(client, client.submit(prompt_request(prompt, true)));
  StreamResult whole = collect_stream(client, client.submit(prompt_request(prompt, false)));
  ASSERT_TRUE(streamed.ok());
  ASSERT_TRUE(whole.ok());
  EXPECT_GT(streamed.deltas, 1u);
  EXPECT_EQ(whole.deltas, 0u);
  ASSERT_TRUE(whole.done->output);
  EXPECT_EQ(streamed.final, whole.done->output->final);
  EXPECT_EQ(streamed.analysis, whole.done->output->analysis);
  EXPECT_EQ(streamed.final, prompt);
  EXPECT_FALSE(streamed.seq_gap);
  EXPECT_TRUE(streamed.accepted);
  EXPECT_GE(streamed.ttft_ms, 0);
  EXPECT_EQ(streamed.done->finish_reason, protocol::FinishReason::kStop);
  EXPECT_EQ(static_cast<int64_t>(streamed.token_ids.size()), streamed.done->usage.completion_tokens);
}

TEST(Client, MaxTokensTruncatesWithFinishReasonLength) {
  FixtureServer server;
  Client client(server.endpoint());
  StreamResult r = collect_stream(client, client.submit(prompt_request("a b c d e", true, 2)));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.final, "a b");
  EXPECT_EQ(r.done->finish_reason, protocol::FinishReason::kLength);
}

TEST(Client, ManyInterleavedRequestsOnOneConnection) {
  FixtureServer server;
  Client client(server.endpoint());
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back(client.submit(prompt_request("w" + std::to_string(i) + " x", true)));
  // Collect in reverse order: poll_for must keep the others' messages for later.
  for (int i = 19; i >= 0; --i) {
    StreamResult r = collect_stream(client, ids[i]);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.final, "w" + std::to_string(i) + " x");
  }
}

TEST(Client, SilentServerTimesOutWithAClearErrorInsteadOfHanging) {
  FixtureServerOptions o;
  o.silent = true;
  FixtureServer server(o);
  Client client(server.endpoint());
  const std::string id = client.submit(prompt_request("hello", true));
  StreamOptions so;
  so.idle_timeout = Millis(200);
  const auto t0 = std::chrono::steady_clock::now();
  try {
    collect_stream(client, id, so);
    FAIL() << "expected a timeout";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kComm);
    EXPECT_NE(std::string(e.what()).find(id), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("200 ms"), std::string::npos) << e.what();
  }
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(3));
  EXPECT_THROW(client.health(Millis(100)), Error);
}

TEST(Client, NoServerAtAllTimesOut) {
  // Nothing listens here (the fixture is gone): connect succeeds lazily, replies never come.
  std::string endpoint;
  { FixtureServer gone; endpoint = gone.endpoint(); }
  Client client(endpoint);
  StreamOptions so;
  so.idle_timeout = Millis(150);
  EXPECT_THROW(collect_stream(client, client.submit(prompt_request("x", true)), so), Error);
}

TEST(Client, HealthAndStats) {
  FixtureServer server;
  Client client(server.endpoint());
  protocol::HealthReply h = client.health(Millis(2000));
  EXPECT_EQ(h.status, "ok");
  EXPECT_EQ(h.model, "fixture");
  protocol::StatsReply s = client.stats(Millis(2000));
  EXPECT_EQ(s.running, 0);
}

TEST(Client, CancelEndsTheRequestWithFinishReasonCancelled) {
  FixtureServer server;
  Client client(server.endpoint());
  const std::string id = client.submit(prompt_request("hold", true));
  auto accepted = client.poll_for(id, Millis(2000));
  ASSERT_TRUE(accepted && std::holds_alternative<protocol::Accepted>(*accepted));
  EXPECT_EQ(client.stats(Millis(2000)).running, 1);
  client.cancel(id);
  StreamResult r = collect_stream(client, id);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r.done->finish_reason, protocol::FinishReason::kCancelled);
  EXPECT_EQ(client.stats(Millis(2000)).running, 0);
}

TEST(Client, CancelOfUnknownIdIsANonTerminalError) {
  FixtureServer server;
  Client client(server.endpoint());
  client.cancel("never-submitted");
  auto m = client.poll(Millis(2000));
  ASSERT_TRUE(m);
  const auto& e = std::get<protocol::ErrorReply>(*m);
  EXPECT_EQ(e.code, protocol::ErrorCode::kUnknownId);
  EXPECT_FALSE(e.id);
  EXPECT_EQ(e.ref, "never-submitted");
}

TEST(Client, DuplicateInFlightIdIsRefusedWithoutEndingTheOriginal) {
  FixtureServer server;
  Client client(server.endpoint());
  protocol::Submit s = prompt_request("hold", true);
  s.id = "same";
  client.submit(s);
  client.submit(s);
  std::vector<protocol::ServerMessage> got = receive_n(client, 2);
  ASSERT_EQ(got.size(), 2u);  // accepted + duplicate_id error
  const auto& e = std::get<protocol::ErrorReply>(got[1]);
  EXPECT_EQ(e.code, protocol::ErrorCode::kDuplicateId);
  EXPECT_FALSE(protocol::is_terminal(got[1]));
  client.cancel("same");
  StreamResult r = collect_stream(client, "same");
  EXPECT_EQ(r.done->finish_reason, protocol::FinishReason::kCancelled);
}

TEST(Client, BadSubmitReusingALiveIdLeavesTheOriginalRunning) {
  FixtureServer server;
  Client client(server.endpoint());
  protocol::Submit s = prompt_request("hold", true);
  s.id = "live";
  client.submit(s);
  client.send_raw(R"({"v":1,"type":"submit","id":"live","prompt":"x","params":{"top_k":-1}})");
  std::vector<protocol::ServerMessage> got = receive_n(client, 2);
  ASSERT_EQ(got.size(), 2u);
  const auto& e = std::get<protocol::ErrorReply>(got[1]);
  EXPECT_EQ(e.code, protocol::ErrorCode::kBadRequest);
  EXPECT_FALSE(protocol::is_terminal(got[1]));
  client.cancel("live");
  EXPECT_EQ(collect_stream(client, "live").done->finish_reason, protocol::FinishReason::kCancelled);
}

TEST(Client, SubmitRefusesInvalidUtf8InsteadOfAlteringIt) {
  FixtureServer server;
  Client client(server.endpoint());
  EXPECT_THROW(client.submit(prompt_request("caf\xE9", true)), Error);
}
