// Every refusal as an OpenAI error object with its HTTP status: the front door's error
// codes (from a scripted front door), the gateway's own (unsupported fields, unknown model
// or route, body too large, API key), an unreachable cluster; and the listen policy.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/error.h"
#include "gateway/auth.h"
#include "gateway/metrics.h"
#include "gateway_fixture.h"
#include "scripted_front_door.h"

namespace gossamer::testing {
namespace {

// "error:<code>": that error as the request's terminal reply; otherwise a short answer.
Script error_script(const protocol::Submit& s) {
  const std::string& text = s.messages ? s.messages->back().text() : std::string();
  Script sc;
  if (text.rfind("error:", 0) == 0) {
    protocol::ErrorReply e;
    e.code = *protocol::error_code_from_string(text.substr(6));
    e.message = "scripted " + text.substr(6);
    e.id = s.id;
    sc.replies.push_back(e);
    return sc;
  }
  sc.replies.push_back(protocol::Accepted{"", 0});
  protocol::Done done;
  done.output = protocol::Output{};
  done.output->final = "ok";
  sc.replies.push_back(done);
  return sc;
}

json chat(const std::string& text) {
  return {{"messages", {{{"role", "user"}, {"content", text}}}}};
}

// The status, and the error object's shape every OpenAI SDK reads.
void expect_error(const httplib::Result& res, int status, const std::string& param = "") {
  ASSERT_TRUE(res) << "no HTTP response";
  EXPECT_EQ(res->status, status) << res->body;
  const json j = json::parse(res->body);
  ASSERT_TRUE(j.contains("error")) << res->body;
  const json& e = j["error"];
  EXPECT_TRUE(e["message"].is_string() && !e["message"].get<std::string>().empty());
  EXPECT_TRUE(e["type"].is_string());
  EXPECT_TRUE(e.contains("param") && e.contains("code"));
  if (!param.empty()) {
    EXPECT_EQ(e["param"], param) << res->body;
  }
}

struct Errors : ::testing::Test {
  ScriptedFrontDoor door{error_script};
  HttpGateway gw{[&] {
    gateway::GatewayOptions o;
    o.upstream.endpoint = door.endpoint();
    o.max_body_bytes = 64 * 1024;
    return o;
  }()};
};

TEST_F(Errors, FrontDoorCodesMapToHttpStatuses) {
  const std::vector<std::pair<std::string, int>> cases = {
      {"bad_request", 400}, {"context_length", 400}, {"too_large", 413}, {"overloaded", 429},
      {"shutting_down", 503}, {"rank_failure", 503}, {"internal", 500}};
  for (const auto& [code, status] : cases) {
    for (bool stream : {false, true}) {
      json body = chat("error:" + code);
      body["stream"] = stream;
      auto res = gw.post("/v1/chat/completions", body);
      SCOPED_TRACE(code + (stream ? " streamed" : ""));
      expect_error(res, status);
      EXPECT_EQ(json::parse(res->body)["error"]["code"], code == "context_length" ? "context_length_exceeded" : code);
      if (status == 429) {
        EXPECT_EQ(res->get_header_value("Retry-After"), "1");
      }
    }
  }
  EXPECT_EQ(gw.gw.metrics().outcome_count(gateway::Outcome::kRateLimited), 2u);
}

TEST_F(Errors, UnsupportedFieldsAreRefusedByName) {
  const std::vector<std::pair<json, std::string>> cases = {
      {{{"n", 2}}, "n"},
      {{{"logprobs", true}}, "logprobs"},
      {{{"top_logprobs", 3}}, "top_logprobs"},
      {{{"presence_penalty", 0.5}}, "presence_penalty"},
      {{{"tool_choice", "required"}}, "tool_choice"},
      {{{"response_format", {{"type", "json_object"}}}}, "response_format"},
      {{{"frobnicate", 1}}, "frobnicate"},
      {{{"top_p", 1.5}}, "top_p"},  // a value the front door's parser refuses
      {{{"stream_options", {{"include_usage", true}}}}, "stream_options"},
  };
  for (const auto& [extra, param] : cases) {
    json body = chat("hi");
    body.update(extra);
    SCOPED_TRACE(extra.dump());
    expect_error(gw.post("/v1/chat/completions", body), 400, param);
  }
  // Defaults of unsupported features pass: they ask for nothing we do not do.
  json body = chat("hi");
  body.update({{"n", 1}, {"logprobs", false}, {"presence_penalty", 0}, {"user", "u1"}});
  EXPECT_EQ(gw.post("/v1/chat/completions", body)->status, 200);
  expect_error(gw.post("/v1/completions", {{"prompt", {1, 2}}, {"echo", true}}), 400, "echo");
  EXPECT_TRUE(door.submits().size() == 1u) << "a refused request reached the front door";
}

TEST_F(Errors, BadJsonUnknownModelUnknownRouteAndBigBody) {
  auto res = gw.http->Post("/v1/chat/completions", "{not json", "application/json");
  expect_error(res, 400);
  json body = chat("hi");
  body["model"] = "gpt-5";
  expect_error(gw.post("/v1/chat/completions", body), 404, "model");
  expect_error(gw.http->Get("/v1/nothing"), 404);
  expect_error(gw.post("/v1/chat/completions", chat(std::string(100 * 1024, 'x'))), 413);
}

TEST(GatewayAuth, ApiKeyRefusedAndAccepted) {
  ScriptedFrontDoor door{error_script};
  const std::string keys = "/tmp/gossamer-gw-keys-" + std::to_string(::getpid());
  std::ofstream(keys) << "# keys\nsk-first\n  sk-second  \n";
  gateway::GatewayOptions o;
  o.upstream.endpoint = door.endpoint();
  o.api_key_file = keys;
  HttpGateway gw(o);
  expect_error(gw.post("/v1/chat/completions", chat("hi")), 401);
  expect_error(gw.post("/v1/chat/completions", chat("hi"), {{"Authorization", "Bearer sk-wrong"}}), 401);
  expect_error(gw.http->Get("/v1/models", {{"Authorization", "Bearer sk-firs"}}), 401);
  EXPECT_EQ(gw.post("/v1/chat/completions", chat("hi"), {{"Authorization", "Bearer sk-second"}})->status, 200);
  EXPECT_EQ(gw.http->Get("/v1/models", {{"Authorization", "Bearer sk-first"}})->status, 200);
  EXPECT_EQ(gw.http->Get("/health")->status, 200);  // probes need no key
  EXPECT_TRUE(door.submits().size() == 1u);
  std::remove(keys.c_str());
}

TEST(GatewayAuth, NonLoopbackNeedsKeysOrInsecure) {
  EXPECT_TRUE(gateway::is_loopback_host("127.0.0.1"));
  EXPECT_TRUE(gateway::is_loopback_host("::1"));
  EXPECT_FALSE(gateway::is_loopback_host("0.0.0.0"));
  EXPECT_THROW(gateway::check_listen_policy("0.0.0.0", false, false), Error);
  EXPECT_NO_THROW(gateway::check_listen_policy("0.0.0.0", true, false));
  EXPECT_NO_THROW(gateway::check_listen_policy("0.0.0.0", false, true));
  gateway::GatewayOptions o;
  o.upstream.endpoint = "tcp://127.0.0.1:1";
  o.listen = "0.0.0.0:0";
  EXPECT_THROW(gateway::Gateway{o}, Error);
  EXPECT_FALSE(gateway::bearer_matches("sk-first", {"sk-first"}));  // the scheme is required
  EXPECT_TRUE(gateway::bearer_matches("Bearer sk-first", {"sk-first"}));
}

TEST(GatewayUpstreamDown, HealthAndRequestsAre503) {
  // A port nobody listens on: ZeroMQ keeps trying to connect, nothing answers.
  gateway::GatewayOptions o;
  o.upstream.endpoint = "tcp://127.0.0.1:9";
  o.idle_timeout = std::chrono::milliseconds(500);
  o.probe_timeout = std::chrono::milliseconds(300);
  HttpGateway gw(o);
  ASSERT_EQ(gw.http->Get("/health")->status, 503);
  expect_error(gw.post("/v1/chat/completions", chat("hi")), 503);
  expect_error(gw.http->Get("/v1/models"), 503);
  const auto metrics = gw.http->Get("/metrics");
  ASSERT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("gossamer:upstream_up 0"), std::string::npos) << metrics->body;
}

}  // namespace
}  // namespace gossamer::testing
