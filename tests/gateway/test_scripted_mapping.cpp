// The gateway's mapping of front-door replies to OpenAI objects, field by field, against a
// scripted front door (scripted_front_door.h): reasoning deltas, a tool call whose
// arguments arrive in pieces, a final answer; streamed and not. Also what the gateway
// sends upstream for an OpenAI request with tool turns.
#include <gtest/gtest.h>

#include "gateway_fixture.h"
#include "scripted_front_door.h"

namespace gossamer::testing {
namespace {

using protocol::Channel;

protocol::Delta delta(int64_t seq, Channel ch, std::string text) {
  protocol::Delta d;
  d.seq = seq;
  d.channel = ch;
  d.text = std::move(text);
  return d;
}

protocol::Delta tool_piece(int64_t seq, std::optional<std::string> name, std::string args) {
  protocol::Delta d = delta(seq, Channel::kCommentary, "");
  d.tool_call = protocol::ToolCallDelta{0, std::move(name), std::move(args)};
  return d;
}

// "tool": reasoning, then get_weather({"city":"Paris"}) in two pieces.
// anything else: reasoning, then the answer "The answer is 42." in two pieces.
Script script_for(const protocol::Submit& s) {
  const std::string& last = s.messages->back().text();
  const bool stream = s.params.stream;
  Script sc;
  sc.replies.push_back(protocol::Accepted{"", 0});
  protocol::Done done;
  done.usage = {30, 12, 16};
  protocol::Output out;
  out.analysis = "Let me check.";
  if (stream) {
    sc.replies.push_back(delta(0, Channel::kAnalysis, "Let me "));
    sc.replies.push_back(delta(1, Channel::kAnalysis, "check."));
  }
  if (last == "tool") {
    if (stream) {
      sc.replies.push_back(tool_piece(2, "get_weather", "{\"city\":"));
      sc.replies.push_back(tool_piece(3, std::nullopt, "\"Paris\"}"));
    }
    out.tool_calls.push_back({"get_weather", "{\"city\":\"Paris\"}"});
    done.finish_reason = protocol::FinishReason::kToolCall;
  } else {
    if (stream) {
      sc.replies.push_back(delta(2, Channel::kFinal, "The answer"));
      sc.replies.push_back(delta(3, Channel::kFinal, " is 42."));
    }
    out.final = "The answer is 42.";
  }
  if (!stream) done.output = out;
  sc.replies.push_back(done);
  return sc;
}

struct Scripted : ::testing::Test {
  ScriptedFrontDoor door{script_for};
  HttpGateway gw{[&] {
    gateway::GatewayOptions o;
    o.upstream.endpoint = door.endpoint();
    return o;
  }()};

  json ask(const std::string& user, bool stream) {
    json body = {{"model", "scripted-model"}, {"messages", {{{"role", "user"}, {"content", user}}}}};
    if (stream) body["stream"] = true, body["stream_options"] = {{"include_usage", true}};
    return body;
  }
};

TEST_F(Scripted, WholeToolCallResponseFieldByField) {
  auto res = gw.post("/v1/chat/completions", ask("tool", false));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  const json r = json::parse(res->body);
  EXPECT_EQ(r["object"], "chat.completion");
  EXPECT_EQ(r["model"], "scripted-model");
  EXPECT_EQ(r["id"].get<std::string>().rfind("chatcmpl-", 0), 0u);
  const json& choice = r["choices"][0];
  EXPECT_EQ(choice["index"], 0);
  EXPECT_EQ(choice["finish_reason"], "tool_calls");
  const json& m = choice["message"];
  EXPECT_EQ(m["role"], "assistant");
  EXPECT_TRUE(m["content"].is_null());
  EXPECT_EQ(m["reasoning_content"], "Let me check.");
  EXPECT_EQ(m["reasoning"], "Let me check.");
  ASSERT_EQ(m["tool_calls"].size(), 1u);
  const json& call = m["tool_calls"][0];
  EXPECT_EQ(call["type"], "function");
  EXPECT_EQ(call["id"].get<std::string>().rfind("call_", 0), 0u);
  EXPECT_EQ(call["function"]["name"], "get_weather");
  ASSERT_TRUE(call["function"]["arguments"].is_string());  // JSON text, as OpenAI sends it
  EXPECT_EQ(json::parse(call["function"]["arguments"].get<std::string>()), json({{"city", "Paris"}}));
  EXPECT_EQ(r["usage"]["prompt_tokens"], 30);
  EXPECT_EQ(r["usage"]["completion_tokens"], 12);
  EXPECT_EQ(r["usage"]["total_tokens"], 42);
  EXPECT_EQ(r["usage"]["prompt_tokens_details"]["cached_tokens"], 16);
}

TEST_F(Scripted, StreamedToolCallChunksFieldByField) {
  auto res = gw.post("/v1/chat/completions", ask("tool", true));
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/event-stream");
  bool well_formed = false;
  const auto chunks = sse_chunks(res->body, &well_formed);
  ASSERT_TRUE(well_formed) << res->body;
  // role, 2 reasoning, 2 tool-call pieces, finish, usage
  ASSERT_EQ(chunks.size(), 7u) << res->body;
  for (const json& c : chunks) {
    EXPECT_EQ(c["object"], "chat.completion.chunk");
    EXPECT_EQ(c["id"], chunks[0]["id"]);
  }
  EXPECT_EQ(chunks[0]["choices"][0]["delta"]["role"], "assistant");
  std::string reasoning, reasoning2, args;
  for (size_t i = 1; i <= 2; ++i) {
    reasoning += chunks[i]["choices"][0]["delta"]["reasoning_content"].get<std::string>();
    reasoning2 += chunks[i]["choices"][0]["delta"]["reasoning"].get<std::string>();
  }
  EXPECT_EQ(reasoning, "Let me check.");
  EXPECT_EQ(reasoning2, reasoning);
  const json& first = chunks[3]["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(first["index"], 0);
  EXPECT_EQ(first["type"], "function");
  EXPECT_EQ(first["function"]["name"], "get_weather");
  EXPECT_EQ(first["id"].get<std::string>().rfind("call_", 0), 0u);
  const json& second = chunks[4]["choices"][0]["delta"]["tool_calls"][0];
  EXPECT_EQ(second["index"], 0);
  EXPECT_FALSE(second.contains("id"));  // id, type and name come once, with the first piece
  EXPECT_FALSE(second["function"].contains("name"));
  args = first["function"]["arguments"].get<std::string>() + second["function"]["arguments"].get<std::string>();
  EXPECT_EQ(args, "{\"city\":\"Paris\"}");
  EXPECT_EQ(chunks[5]["choices"][0]["finish_reason"], "tool_calls");
  EXPECT_TRUE(chunks[5]["usage"].is_null());
  EXPECT_TRUE(chunks[6]["choices"].empty());
  EXPECT_EQ(chunks[6]["usage"]["total_tokens"], 42);
  EXPECT_EQ(chunks[6]["usage"]["prompt_tokens_details"]["cached_tokens"], 16);
  // The streamed call id is the one the whole response gives the same request's call.
  EXPECT_NE(first["id"], "");
}

TEST_F(Scripted, StreamedAnswerEqualsTheWholeAnswer) {
  auto whole = gw.post("/v1/chat/completions", ask("answer", false));
  auto streamed = gw.post("/v1/chat/completions", ask("answer", true));
  ASSERT_TRUE(whole && streamed);
  const json w = json::parse(whole->body);
  bool well_formed = false;
  std::string content, reasoning;
  json finish;
  for (const json& c : sse_chunks(streamed->body, &well_formed)) {
    if (c["choices"].empty()) continue;
    const json& d = c["choices"][0]["delta"];
    if (d.contains("content")) content += d["content"].get<std::string>();
    if (d.contains("reasoning_content")) reasoning += d["reasoning_content"].get<std::string>();
    if (!c["choices"][0]["finish_reason"].is_null()) finish = c["choices"][0]["finish_reason"];
  }
  EXPECT_TRUE(well_formed);
  EXPECT_EQ(content, "The answer is 42.");
  EXPECT_EQ(content, w["choices"][0]["message"]["content"]);
  EXPECT_EQ(reasoning, w["choices"][0]["message"]["reasoning_content"]);
  EXPECT_EQ(finish, "stop");
  EXPECT_EQ(w["choices"][0]["finish_reason"], "stop");
  EXPECT_FALSE(w["choices"][0]["message"].contains("tool_calls"));
}

TEST_F(Scripted, OpenAIRequestBecomesTheSubmitItMeans) {
  json body = {
      {"model", "scripted-model"},
      {"messages",
       {{{"role", "system"}, {"content", "Be terse."}},
        {{"role", "developer"}, {"content", {{{"type", "text"}, {"text", "Use "}}, {{"type", "text"}, {"text", "tools."}}}}},
        {{"role", "user"}, {"content", "Weather in Paris?"}},
        {{"role", "assistant"},
         {"content", nullptr},
         {"reasoning_content", "Need the tool."},
         {"tool_calls",
          {{{"id", "call_1"}, {"type", "function"}, {"function", {{"name", "get_weather"}, {"arguments", "{\"city\":\"Paris\"}"}}}}}}},
        {{"role", "tool"}, {"tool_call_id", "call_1"}, {"content", "{\"temp\":21}"}},
        {{"role", "user"}, {"content", "answer"}}}},
      {"tools", {{{"type", "function"}, {"function", {{"name", "get_weather"}, {"parameters", {{"type", "object"}}}}}}}},
      {"tool_choice", "auto"},
      {"max_completion_tokens", 77},
      {"temperature", 0.5},
      {"top_p", 0.9},
      {"seed", 11},
      {"stop", "END"},
      {"reasoning_effort", "high"}};
  auto res = gw.post("/v1/chat/completions", body);
  ASSERT_TRUE(res);
  ASSERT_EQ(res->status, 200) << res->body;
  auto submits = door.submits();
  ASSERT_EQ(submits.size(), 1u);
  const protocol::Submit& s = submits[0];
  ASSERT_TRUE(s.messages);
  ASSERT_EQ(s.messages->size(), 6u);
  EXPECT_EQ((*s.messages)[1].role, protocol::Role::kDeveloper);
  EXPECT_EQ((*s.messages)[1].text(), "Use tools.");
  const auto& assistant = (*s.messages)[3];
  EXPECT_EQ(assistant.thinking, "Need the tool.");
  ASSERT_EQ(assistant.tool_calls.size(), 1u);
  EXPECT_EQ(assistant.tool_calls[0].id, "call_1");
  EXPECT_EQ(assistant.tool_calls[0].name, "get_weather");
  EXPECT_EQ((*s.messages)[4].tool_call_id, "call_1");
  EXPECT_EQ(s.params.max_tokens, 77);
  EXPECT_EQ(s.params.temperature, 0.5);
  EXPECT_EQ(s.params.top_p, 0.9);
  EXPECT_EQ(s.params.seed, 11u);
  EXPECT_EQ(s.params.stop, std::vector<std::string>{"END"});
  EXPECT_EQ(s.params.reasoning_effort, protocol::ReasoningEffort::kHigh);
  ASSERT_EQ(s.params.tools.size(), 1u);
  EXPECT_FALSE(s.params.stream);
  // tool_choice "none": the model is not offered the tools.
  body["tool_choice"] = "none";
  ASSERT_EQ(gw.post("/v1/chat/completions", body)->status, 200);
  EXPECT_TRUE(door.submits().back().params.tools.empty());
}

}  // namespace
}  // namespace gossamer::testing

namespace gossamer::testing {
namespace {

// A generation that never ends on its own: the gateway must cancel it when the client leaves.
TEST(ScriptedDisconnect, ClientLeavingMidStreamCancelsUpstream) {
  ScriptedFrontDoor door([](const protocol::Submit&) {
    Script sc;
    sc.replies.push_back(protocol::Accepted{"", 0});
    sc.drip = std::chrono::milliseconds(20);
    return sc;
  });
  gateway::GatewayOptions o;
  o.upstream.endpoint = door.endpoint();
  HttpGateway gw(o);
  int events = 0;
  const bool completed = post_streaming(*gw.http, "/v1/chat/completions",
                                       {{"messages", {{{"role", "user"}, {"content", "go"}}}}, {"stream", true}},
                                       [&](const char*, size_t) { return ++events < 3; });
  EXPECT_FALSE(completed);
  for (int i = 0; i < 100 && door.cancels().empty(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(door.cancels().size(), 1u);
  EXPECT_EQ(door.cancels()[0], door.submits().at(0).id);
}

}  // namespace
}  // namespace gossamer::testing

namespace gossamer::testing {
namespace {

// Two calls in one OpenAI assistant message, results in the other order: harmony gets each
// call as a turn of its own, followed by the result that answers it.
TEST_F(Scripted, SeveralToolCallsBecomeOneTurnEachFollowedByItsResult) {
  auto call = [](const char* id, const char* city) {
    return json{{"id", id}, {"type", "function"},
                {"function", {{"name", "get_weather"}, {"arguments", std::string("{\"city\":\"") + city + "\"}"}}}};
  };
  json body = {{"messages",
                {{{"role", "user"}, {"content", "Paris and Rome?"}},
                 {{"role", "assistant"}, {"content", nullptr}, {"reasoning_content", "Two calls."},
                  {"tool_calls", {call("c1", "Paris"), call("c2", "Rome")}}},
                 {{"role", "tool"}, {"tool_call_id", "c2"}, {"content", "{\"temp\":25}"}},
                 {{"role", "tool"}, {"tool_call_id", "c1"}, {"content", "{\"temp\":21}"}},
                 {{"role", "user"}, {"content", "answer"}}}}};
  auto res = gw.post("/v1/chat/completions", body);
  ASSERT_EQ(res->status, 200) << res->body;
  const std::vector<protocol::ChatMessage> m = *door.submits().back().messages;
  ASSERT_EQ(m.size(), 6u);
  EXPECT_EQ(m[1].tool_calls.at(0).id, "c1");
  EXPECT_EQ(m[1].thinking, "Two calls.");
  EXPECT_EQ(m[2].tool_call_id, "c1");
  EXPECT_EQ(m[2].text(), "{\"temp\":21}");
  EXPECT_EQ(m[3].tool_calls.at(0).id, "c2");
  EXPECT_FALSE(m[3].thinking);
  EXPECT_EQ(m[4].tool_call_id, "c2");
  EXPECT_EQ(m[5].text(), "answer");
  // A result that answers no call is refused, naming it.
  body["messages"][3]["tool_call_id"] = "c9";
  res = gw.post("/v1/chat/completions", body);
  EXPECT_EQ(res->status, 400);
  EXPECT_EQ(json::parse(res->body)["error"]["param"], "messages[3].tool_call_id");
}

}  // namespace
}  // namespace gossamer::testing
