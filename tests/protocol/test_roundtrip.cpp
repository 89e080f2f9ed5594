// Every message survives encode -> parse -> encode unchanged (JSON equality), in both
// directions, with all optional fields set and with none set.
#include <gtest/gtest.h>

#include "protocol/encode.h"
#include "protocol/parse.h"

using namespace gossamer::protocol;
using json = nlohmann::json;

namespace {

Submit full_submit() {
  Submit s;
  s.id = "req-\xC3\xA9-1";
  ChatMessage sys{Role::kSystem, "be brief", {}, {}, {}, {}};
  ChatMessage dev{Role::kDeveloper, "answer in French", {}, {}, {}, {}};
  ChatMessage user{Role::kUser, "weather in Paris?", {}, {}, {}, {}};
  ChatMessage asst{Role::kAssistant, "", std::string("need the tool"),
                   {ToolCall{"call_1", "get_weather", R"({"city":"Paris"})", {}}}, {}, {}};
  ChatMessage tool{Role::kTool, R"({"temp":21})", {}, {}, std::string("call_1"),
                   std::string("get_weather")};
  s.messages = std::vector<ChatMessage>{sys, dev, user, asst, tool};
  s.params.max_tokens = 128;
  s.params.temperature = 0.7;
  s.params.top_p = 0.9;
  s.params.top_k = 40;
  s.params.seed = 18446744073709551615ull;  // full uint64 range survives
  s.params.stop = {"\n\n", "END"};
  s.params.reasoning_effort = ReasoningEffort::kHigh;
  s.params.tools = {Tool{"get_weather", "Current weather",
                         json{{"type", "object"},
                              {"properties", {{"city", {{"type", "string"}}}}}}}};
  s.params.stream = false;
  return s;
}

void expect_client_roundtrip(const ClientMessage& m) {
  const std::string frame = encode(m);
  Result<ClientMessage> back = parse_client_message(frame);
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << frame;
  EXPECT_EQ(back.value().index(), m.index());
  EXPECT_EQ(to_json(back.value()), to_json(m)) << frame;
}

void expect_server_roundtrip(const ServerMessage& m) {
  const std::string frame = encode(m);
  Result<ServerMessage> back = parse_server_message(frame);
  ASSERT_TRUE(back.ok()) << back.error().message << "\n" << frame;
  EXPECT_EQ(back.value().index(), m.index());
  EXPECT_EQ(to_json(back.value()), to_json(m)) << frame;
}

}  // namespace

TEST(RoundTrip, SubmitWithMessagesAndEveryParam) {
  Submit s = full_submit();
  expect_client_roundtrip(s);
  const json j = to_json(ClientMessage{s});
  EXPECT_EQ(j["v"], 1);
  EXPECT_EQ(j["type"], "submit");
  auto parsed = parse_client_message(encode(ClientMessage{s}));
  ASSERT_TRUE(parsed.ok());
  const Submit& p = std::get<Submit>(parsed.value());
  EXPECT_EQ(p.messages->at(3).tool_calls.at(0).arguments, R"({"city":"Paris"})");
  EXPECT_EQ(*p.params.seed, 18446744073709551615ull);
  EXPECT_FALSE(p.params.stream);
}

TEST(RoundTrip, SubmitPromptAndTokensWithDefaults) {
  Submit a;
  a.id = "p";
  a.prompt = "Once upon a time";
  expect_client_roundtrip(a);
  Submit b;
  b.id = "t";
  b.tokens = std::vector<int32_t>{0, 1, 200000};
  b.params.max_tokens = 1;
  expect_client_roundtrip(b);
  auto parsed = parse_client_message(R"({"v":1,"type":"submit","id":"x","prompt":"hi"})");
  ASSERT_TRUE(parsed.ok());
  EXPECT_TRUE(std::get<Submit>(parsed.value()).params.stream);  // default: stream
}

TEST(RoundTrip, CancelHealthStats) {
  expect_client_roundtrip(Cancel{"r1"});
  expect_client_roundtrip(HealthRequest{});
  expect_client_roundtrip(HealthRequest{"h1"});
  expect_client_roundtrip(StatsRequest{});
  expect_client_roundtrip(StatsRequest{"s1"});
}

TEST(RoundTrip, ServerMessages) {
  expect_server_roundtrip(Accepted{"r1", 3});
  expect_server_roundtrip(Accepted{"r1", std::nullopt});
  expect_server_roundtrip(Delta{"r1", 0, Channel::kAnalysis, "thinking\xE2\x80\xA6", {5, 6}, {}});
  expect_server_roundtrip(
      Delta{"r1", 7, Channel::kCommentary, "", {9}, ToolCallDelta{0, "get_weather", R"({"ci)"}});
  expect_server_roundtrip(Delta{"r1", 8, Channel::kFinal, "Bonjour", {1}, {}});
  Done d{"r1", FinishReason::kToolCall, Usage{12, 34, 8}, Timings{1.5, 20.25, 300.0}, {}};
  expect_server_roundtrip(d);
  d.output = Output{"thought", "calling", "answer", {FinishedToolCall{"f", "{}"}}};
  expect_server_roundtrip(d);
  for (FinishReason f : {FinishReason::kStop, FinishReason::kLength, FinishReason::kCancelled,
                         FinishReason::kContext})
    expect_server_roundtrip(Done{"r", f, {}, {}, {}});
  expect_server_roundtrip(ErrorReply{ErrorCode::kOverloaded, "queue full", "r2", {}});
  expect_server_roundtrip(ErrorReply{ErrorCode::kUnknownId, "no such id", {}, "r3"});
  expect_server_roundtrip(HealthReply{"h", "degraded", 2, 12.5, "gpt-oss-20b"});
  expect_server_roundtrip(StatsReply{"s", 1, 2, 3, 4, 100, 50, json{{"prefix_hits", 7}}});
}

TEST(RoundTrip, EveryErrorCodeHasAStableString) {
  const std::vector<std::pair<ErrorCode, std::string>> all = {
      {ErrorCode::kBadJson, "bad_json"},           {ErrorCode::kBadRequest, "bad_request"},
      {ErrorCode::kUnknownType, "unknown_type"},   {ErrorCode::kDuplicateId, "duplicate_id"},
      {ErrorCode::kUnknownId, "unknown_id"},       {ErrorCode::kTooLarge, "too_large"},
      {ErrorCode::kOverloaded, "overloaded"},      {ErrorCode::kContextLength, "context_length"},
      {ErrorCode::kInvalidUtf8, "invalid_utf8"},   {ErrorCode::kUnsupportedVersion, "unsupported_version"},
      {ErrorCode::kInternal, "internal"},          {ErrorCode::kRankFailure, "rank_failure"},
      {ErrorCode::kShuttingDown, "shutting_down"},
  };
  for (const auto& [code, name] : all) {
    EXPECT_EQ(error_code_string(code), name);
    EXPECT_EQ(error_code_from_string(name), code);
    expect_server_roundtrip(ErrorReply{code, "m", "id", {}});
  }
  EXPECT_FALSE(error_code_from_string("nope"));
}

TEST(RoundTrip, TerminalRules) {
  EXPECT_TRUE(is_terminal(ServerMessage{Done{"a", {}, {}, {}, {}}}));
  EXPECT_TRUE(is_terminal(ServerMessage{ErrorReply{ErrorCode::kOverloaded, "", "a", {}}}));
  EXPECT_FALSE(is_terminal(ServerMessage{ErrorReply{ErrorCode::kBadJson, "", {}, {}}}));
  EXPECT_FALSE(is_terminal(ServerMessage{Accepted{"a", {}}}));
  EXPECT_FALSE(is_terminal(ServerMessage{Delta{}}));
}

TEST(RoundTrip, EncoderNeverThrowsOnBadUtf8FromUpstream) {
  // A detokenizer bug must not take down the front door: bytes are replaced, not thrown.
  const std::string frame = encode(ServerMessage{Delta{"r", 0, Channel::kFinal, "bad\xFF", {}, {}}});
  auto back = parse_server_message(frame);
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(std::get<Delta>(back.value()).text, "bad\xEF\xBF\xBD");
}

TEST(RoundTrip, ClientIgnoresUnknownServerFields) {
  auto m = parse_server_message(R"({"v":1,"type":"accepted","id":"x","new_field":[1,2]})");
  ASSERT_TRUE(m.ok()) << m.error().message;
  EXPECT_EQ(std::get<Accepted>(m.value()).id, "x");
  auto bad = parse_server_message(R"({"v":1,"type":"delta","id":"x","seq":"0","channel":"final"})");
  EXPECT_FALSE(bad.ok());
}
