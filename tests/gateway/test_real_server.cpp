// The gateway in front of a real `gossamer serve` on a tiny model with the gpt-oss
// vocabulary (written at test time): chat and completions streamed and not (same text at
// temperature 0), models, health, metrics, and a client that leaves mid-stream: the
// request is cancelled upstream and the front door's stats show its sequence freed.
#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>

#include "client/client.h"
#include "gateway/metrics.h"
#include "gateway_fixture.h"
#include "tests/coordinator/server_process.h"
#include "tokenizer/locate.h"
#include "tokenizer/tokenizer.h"

namespace gossamer::testing {
namespace {

using namespace std::chrono_literals;

struct RealServer : ::testing::Test {
  static inline std::unique_ptr<ServerProcess> server;
  static inline std::unique_ptr<HttpGateway> gw;
  static inline std::string model_dir;

  static void SetUpTestSuite() {
    model_dir = "/tmp/gossamer-gw-test-vocab-" + std::to_string(::getpid());
    const std::string synth = std::string(GOSSAMER_BINARY) +
                              " --log-level warn synth --preset tiny --vocab 201088 --seed 7 --force --out " +
                              model_dir + " > /dev/null";
    ASSERT_EQ(std::system(synth.c_str()), 0);
    server = std::make_unique<ServerProcess>(
        0, "--model " + model_dir + " --threads 1 --max-context 1024 --kv-blocks 256 --kv-block-size 16", 13);
    ASSERT_TRUE(server->wait_healthy()) << server->log();
    gateway::GatewayOptions o;
    o.upstream.endpoint = server->endpoint();
    const Tokenizer tok = Tokenizer::load(locate_tokenizer({"", ""}));
    o.tokenize = [tok](const std::string& text) {
      auto ids = tok.encode(text, SpecialTokens::kAsText);
      return std::vector<int32_t>(ids.begin(), ids.end());
    };
    gw = std::make_unique<HttpGateway>(o);
  }
  static void TearDownTestSuite() {
    gw.reset();
    server.reset();
    std::system(("rm -rf " + model_dir).c_str());
  }

  static std::string served_model() { return std::filesystem::path(model_dir).filename().string(); }

  protocol::StatsReply stats() {
    client::Client c(server->endpoint());
    return c.stats(5s);
  }
};

json chat_body(int max_tokens, bool stream) {
  return {{"messages", {{{"role", "system"}, {"content", "You are terse."}}, {{"role", "user"}, {"content", "Name a color."}}}},
          {"max_tokens", max_tokens}, {"temperature", 0}, {"seed", 1}, {"stream", stream}};
}

// content + reasoning of a stream, and its finish reason.
struct Streamed {
  std::string content, reasoning, finish;
  bool well_formed = false;
};
Streamed gather(const std::string& body, bool chat) {
  Streamed s;
  for (const json& c : sse_chunks(body, &s.well_formed)) {
    if (c["choices"].empty()) continue;
    const json& choice = c["choices"][0];
    if (chat) {
      const json& d = choice["delta"];
      if (d.contains("content")) s.content += d["content"].get<std::string>();
      if (d.contains("reasoning_content")) s.reasoning += d["reasoning_content"].get<std::string>();
    } else {
      s.content += choice["text"].get<std::string>();
    }
    if (!choice["finish_reason"].is_null()) s.finish = choice["finish_reason"];
  }
  return s;
}

std::string text_or_empty(const json& v) { return v.is_string() ? v.get<std::string>() : ""; }

TEST_F(RealServer, ChatStreamedEqualsWholeAtTemperatureZero) {
  auto whole = gw->post("/v1/chat/completions", chat_body(24, false));
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  const json w = json::parse(whole->body);
  EXPECT_EQ(w["model"], served_model());
  EXPECT_EQ(w["usage"]["completion_tokens"], 24);
  EXPECT_GT(w["usage"]["prompt_tokens"].get<int>(), 20);
  auto streamed = gw->post("/v1/chat/completions", chat_body(24, true));
  ASSERT_TRUE(streamed);
  ASSERT_EQ(streamed->status, 200);
  const Streamed s = gather(streamed->body, true);
  EXPECT_TRUE(s.well_formed) << streamed->body;
  const json& m = w["choices"][0]["message"];
  EXPECT_FALSE(s.content.empty() && s.reasoning.empty());
  EXPECT_EQ(s.content, text_or_empty(m["content"]));
  EXPECT_EQ(s.reasoning, text_or_empty(m["reasoning_content"]));
  EXPECT_EQ(s.finish, w["choices"][0]["finish_reason"]);
}

// A conversation with tools, two calls in one assistant turn and their results, renders
// with the server's harmony template (the gateway gives it one call per turn).
TEST_F(RealServer, ToolConversationRenders) {
  auto call = [](const char* id, const char* city) {
    return json{{"id", id}, {"type", "function"},
                {"function", {{"name", "get_weather"}, {"arguments", std::string("{\"city\":\"") + city + "\"}"}}}};
  };
  json body = {{"messages",
                {{{"role", "system"}, {"content", "Use tools."}},
                 {{"role", "user"}, {"content", "Paris and Rome?"}},
                 {{"role", "assistant"}, {"content", nullptr}, {"reasoning_content", "Two calls."},
                  {"tool_calls", {call("c1", "Paris"), call("c2", "Rome")}}},
                 {{"role", "tool"}, {"tool_call_id", "c2"}, {"content", "{\"temp\":25}"}},
                 {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "{\"temp\":21}"}}}},
               {"tools", {{{"type", "function"},
                           {"function", {{"name", "get_weather"}, {"description", "Weather of a city"},
                                         {"parameters", {{"type", "object"}, {"properties", {{"city", {{"type", "string"}}}}}}}}}}}},
               {"max_tokens", 4}, {"temperature", 0}};
  auto res = gw->post("/v1/chat/completions", body);
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_GT(json::parse(res->body)["usage"]["prompt_tokens"].get<int>(), 60);
}

TEST_F(RealServer, CompletionsTextAndTokenPrompts) {
  json body = {{"prompt", "The capital of France is"}, {"max_tokens", 12}, {"temperature", 0}};
  auto whole = gw->post("/v1/completions", body);
  ASSERT_TRUE(whole);
  ASSERT_EQ(whole->status, 200) << whole->body;
  const json w = json::parse(whole->body);
  EXPECT_EQ(w["object"], "text_completion");
  EXPECT_EQ(w["usage"]["completion_tokens"], 12);
  EXPECT_EQ(w["usage"]["prompt_tokens"], 5);  // no chat template around a raw prompt
  body["stream"] = true;
  auto streamed = gw->post("/v1/completions", body);
  ASSERT_TRUE(streamed);
  const Streamed s = gather(streamed->body, false);
  EXPECT_TRUE(s.well_formed);
  EXPECT_EQ(s.content, w["choices"][0]["text"]);
  EXPECT_EQ(s.finish, "length");
  auto tokens = gw->post("/v1/completions", {{"prompt", {976, 9029, 328, 10128, 382}}, {"max_tokens", 4}, {"temperature", 0}});
  ASSERT_EQ(tokens->status, 200) << tokens->body;
  EXPECT_EQ(json::parse(tokens->body)["usage"]["prompt_tokens"], 5);
}

TEST_F(RealServer, ModelsHealthAndMetrics) {
  auto models = gw->http->Get("/v1/models");
  ASSERT_EQ(models->status, 200);
  const json m = json::parse(models->body);
  EXPECT_EQ(m["object"], "list");
  EXPECT_EQ(m["data"][0]["id"], served_model());
  EXPECT_EQ(gw->http->Get("/health")->status, 200);
  auto metrics = gw->http->Get("/metrics");
  ASSERT_EQ(metrics->status, 200);
  for (const char* name : {"gossamer:num_requests_running ", "gossamer:num_requests_waiting ", "gossamer:kv_blocks_used{pool=\"full\"}",
                           "gossamer:kv_blocks_used{pool=\"window\"}", "gossamer:num_preemptions_total ",
                           "gossamer:prefix_cache_hits_total ", "gossamer:generation_tokens_total ",
                           "gossamer:time_to_first_token_seconds_bucket", "gossamer:inter_token_latency_seconds_bucket",
                           "gossamer:e2e_request_latency_seconds_count", "gossamer:requests_total{outcome=\"success\"}"})
    EXPECT_NE(metrics->body.find(name), std::string::npos) << name;
  // Prometheus text format: every sample line is `name{labels} value`, each family typed once.
  const std::regex sample(R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-z_]+="[^"]*"(,[a-z_]+="[^"]*")*\})? -?[0-9.e+-]+(Inf)?$)");
  std::istringstream lines(metrics->body);
  std::set<std::string> typed;
  int samples = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("# TYPE ", 0) == 0) {
      EXPECT_TRUE(typed.insert(line.substr(7, line.find(' ', 7) - 7)).second) << line;
    } else if (line.rfind("# HELP ", 0) != 0) {
      EXPECT_TRUE(std::regex_match(line, sample)) << line;
      ++samples;
    }
  }
  EXPECT_GT(samples, 60);
}

TEST_F(RealServer, ClientLeavingMidStreamFreesTheSequence) {
  const int64_t cancelled_before = stats().extra.value("cancelled", int64_t{0});
  size_t received = 0;
  // Read the first event, then hang up.
  const bool completed = post_streaming(*gw->http, "/v1/chat/completions", chat_body(900, true), [&](const char*, size_t n) {
    received += n;
    return false;
  });
  EXPECT_FALSE(completed);  // we hung up
  EXPECT_GT(received, 0u);
  // The gateway notices on its next write and cancels upstream: running back to 0, blocks free.
  protocol::StatsReply st;
  for (int i = 0; i < 100; ++i) {
    st = stats();
    if (st.extra.value("cancelled", int64_t{0}) > cancelled_before && st.running == 0) break;
    std::this_thread::sleep_for(50ms);
  }
  EXPECT_EQ(st.extra.value("cancelled", int64_t{0}), cancelled_before + 1);
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(st.queued, 0);
  EXPECT_EQ(st.kv_blocks_used, 0);
  EXPECT_GE(gw->gw.metrics().outcome_count(gateway::Outcome::kCancelled), 1u);
}

}  // namespace
}  // namespace gossamer::testing
