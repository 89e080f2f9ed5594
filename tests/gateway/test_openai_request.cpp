// OpenAI request bodies -> front-door submits (gateway/openai_request.h), without a
// network: what is mapped, what is refused and with which `param`.
#include <gtest/gtest.h>

#include "gateway/api_error.h"
#include "gateway/openai_request.h"

namespace gossamer::gateway {
namespace {

using json = nlohmann::json;

json chat(json extra = json::object()) {
  json body = {{"messages", {{{"role", "user"}, {"content", "hi"}}}}};
  body.update(extra);
  return body;
}

// The `param` of the ApiError `f` throws, or "<no error>".
template <class F>
std::string refused_param(F f) {
  try {
    f();
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400) << e.message;
    return e.param.value_or("<none>");
  }
  return "<no error>";
}

TEST(OpenAIRequest, ChatParamsMapToTheSubmit) {
  UpstreamRequest r = chat_completion_request(
      chat({{"max_tokens", 10}, {"max_completion_tokens", 20}, {"stop", "x"}, {"stream", true},
            {"stream_options", {{"include_usage", true}}}, {"model", "m"}, {"temperature", nullptr}}));
  EXPECT_EQ(r.submit["params"]["max_tokens"], 20);  // the newer name wins
  EXPECT_EQ(r.submit["params"]["stop"], json::array({"x"}));
  EXPECT_FALSE(r.submit["params"].contains("temperature"));  // null = not given
  EXPECT_TRUE(r.stream && r.include_usage);
  EXPECT_EQ(r.model, "m");
  const std::string frame = finish_submit(r, "id-1");
  EXPECT_EQ(json::parse(frame)["id"], "id-1");
}

TEST(OpenAIRequest, ChatRefusalsNameTheField) {
  EXPECT_EQ(refused_param([] { chat_completion_request(chat({{"stream_options", {{"include_usage", true}}}})); }),
            "stream_options");
  EXPECT_EQ(refused_param([] {
              chat_completion_request({{"messages", {{{"role", "user"}, {"content", {{{"type", "image_url"}}}}}}}});
            }),
            "messages[0].content[0]");
  EXPECT_EQ(refused_param([] {
              chat_completion_request({{"messages", {{{"role", "assistant"}, {"content", "a"}, {"refusal", "no"}}}}});
            }),
            "messages[0].refusal");
  EXPECT_EQ(refused_param([] { chat_completion_request({{"messages", {{{"role", "user"}, {"content", "a"}, {"audio", 1}}}}}); }),
            "messages[0].audio");
  EXPECT_EQ(refused_param([] { chat_completion_request(chat({{"parallel_tool_calls", false}})); }), "parallel_tool_calls");
  EXPECT_EQ(refused_param([] { chat_completion_request(json::object()); }), "messages");
  EXPECT_EQ(refused_param([] { chat_completion_request(json::array()); }), "<none>");
  // Refused by the front door's own parser, with its field path made OpenAI's.
  EXPECT_EQ(refused_param([] {
              auto r = chat_completion_request(chat({{"reasoning_effort", "extreme"}}));
              finish_submit(r, "x");
            }),
            "reasoning_effort");
  EXPECT_EQ(refused_param([] {
              auto r = chat_completion_request({{"messages", {{{"role", "wizard"}, {"content", "a"}}}}});
              finish_submit(r, "x");
            }),
            "messages[0].role");
}

// Found by fuzz/fuzz_openai_request.cpp: string fields holding another JSON type (a role,
// a tool call's id, a tool result's tool_call_id, a content part's type) threw the JSON
// library's type_error out of the mapping, which the server would answer with a 500.
TEST(OpenAIRequest, NonStringFieldsAreA400NotAnException) {
  EXPECT_EQ(refused_param([] {
              auto r = chat_completion_request({{"messages", {{{"role", {{"jame", "x"}}}, {"content", "a"}}}}});
              finish_submit(r, "x");
            }),
            "messages[0].role");
  EXPECT_NE(refused_param([] {
              auto r = chat_completion_request(
                  {{"messages",
                    {{{"role", "assistant"}, {"tool_calls", {{{"id", 7}, {"type", "function"},
                                                              {"function", {{"name", "f"}, {"arguments", "{}"}}}}}}},
                     {{"role", "tool"}, {"tool_call_id", json::array()}, {"content", "r"}}}}});
              finish_submit(r, "x");
            }),
            "<no error>");
  EXPECT_EQ(refused_param([] {
              chat_completion_request({{"messages", {{{"role", "user"}, {"content", {{{"type", 1}, {"text", "a"}}}}}}}});
            }),
            "messages[0].content[0]");
}

TEST(OpenAIRequest, CompletionPromptForms) {
  const Tokenize tokenize = [](const std::string& s) { return std::vector<int32_t>(s.size(), 7); };
  EXPECT_EQ(completion_request({{"prompt", "abc"}}, tokenize).submit["tokens"], json::array({7, 7, 7}));
  EXPECT_EQ(completion_request({{"prompt", {"ab"}}}, tokenize).submit["tokens"], json::array({7, 7}));
  EXPECT_EQ(completion_request({{"prompt", {5, 6}}}, nullptr).submit["tokens"], json::array({5, 6}));
  EXPECT_EQ(refused_param([&] { completion_request({{"prompt", {"a", "b"}}}, tokenize); }), "prompt");
  EXPECT_EQ(refused_param([&] { completion_request({{"prompt", {{1}, {2}}}}, tokenize); }), "prompt");
  EXPECT_EQ(refused_param([] { completion_request({{"prompt", "abc"}}, nullptr); }), "prompt");
  EXPECT_EQ(refused_param([&] { completion_request({{"prompt", "a"}, {"suffix", "b"}}, tokenize); }), "suffix");
  EXPECT_EQ(refused_param([&] { completion_request({{"prompt", "a"}, {"best_of", 3}}, tokenize); }), "best_of");
  EXPECT_EQ(refused_param([&] { completion_request({{"prompt", "a"}, {"messages", json::array()}}, tokenize); }), "messages");
}

TEST(OpenAIRequest, FrontDoorErrorCodesToStatuses) {
  EXPECT_EQ(from_upstream(protocol::ErrorCode::kOverloaded, "full").status, 429);
  EXPECT_EQ(from_upstream(protocol::ErrorCode::kOverloaded, "full").retry_after_s, 1);
  EXPECT_EQ(from_upstream(protocol::ErrorCode::kTooLarge, "big").status, 413);
  EXPECT_EQ(from_upstream(protocol::ErrorCode::kShuttingDown, "bye").status, 503);
  EXPECT_EQ(from_upstream(protocol::ErrorCode::kRankFailure, "dead").status, 503);
  EXPECT_EQ(from_upstream(protocol::ErrorCode::kInternal, "bug").status, 500);
  const ApiError e = from_upstream(protocol::ErrorCode::kBadRequest, "params.top_p: must be in (0, 1]");
  EXPECT_EQ(e.status, 400);
  EXPECT_EQ(e.param, "top_p");
  EXPECT_EQ(e.to_json()["error"]["code"], "bad_request");
}

}  // namespace
}  // namespace gossamer::gateway
