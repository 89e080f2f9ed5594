// The bad-input suite: each malformed client frame maps to one stable error code, and the
// message names the offending field so a user can fix it without reading our source.
#include <gtest/gtest.h>

#include "protocol/parse.h"
#include "protocol/server_messages.h"

using namespace gossamer::protocol;

namespace {

struct BadCase {
  const char* name;
  std::string frame;
  ErrorCode code;
  const char* message_contains;
};

std::string submit_with(const std::string& extra) {
  return R"({"v":1,"type":"submit","id":"r1",)" + extra + "}";
}
std::string with_params(const std::string& params) {
  return submit_with(R"("prompt":"hi","params":{)" + params + "}");
}

Limits test_limits() {
  Limits l;
  l.max_frame_bytes = 64 * 1024;
  l.max_tokens = 4096;
  l.context_length = 8;
  l.vocab_size = 1000;
  return l;
}

std::vector<BadCase> bad_cases() {
  using E = ErrorCode;
  return {
      {"not_json", "hello there", E::kBadJson, ""},
      {"truncated_json", R"({"v":1,"type":)", E::kBadJson, ""},
      {"nan_literal", with_params(R"("temperature":NaN)"), E::kBadJson, ""},
      {"top_level_array", R"([1,2])", E::kBadRequest, "top level"},
      {"missing_version", R"({"type":"health"})", E::kBadRequest, "v:"},
      {"version_wrong_type", R"({"v":"1","type":"health"})", E::kBadRequest, "v:"},
      {"unsupported_version", R"({"v":2,"type":"health"})", E::kUnsupportedVersion, "version 2"},
      {"missing_type", R"({"v":1})", E::kBadRequest, "type"},
      {"type_wrong_type", R"({"v":1,"type":7})", E::kBadRequest, "type"},
      {"unknown_type", R"({"v":1,"type":"launch"})", E::kUnknownType, "launch"},
      {"submit_missing_id", R"({"v":1,"type":"submit","prompt":"x"})", E::kBadRequest, "id"},
      {"submit_id_number", R"({"v":1,"type":"submit","id":5,"prompt":"x"})", E::kBadRequest, "id"},
      {"submit_id_empty", R"({"v":1,"type":"submit","id":"","prompt":"x"})", E::kBadRequest, "id"},
      {"submit_no_input", submit_with(R"("params":{})"), E::kBadRequest, "exactly one"},
      {"submit_two_inputs", submit_with(R"("prompt":"a","tokens":[1])"), E::kBadRequest, "exactly one"},
      {"unknown_top_level_field", submit_with(R"("prompt":"a","priority":1)"), E::kBadRequest, "priority"},
      {"empty_messages", submit_with(R"("messages":[])"), E::kBadRequest, "messages: must not be empty"},
      {"messages_not_array", submit_with(R"("messages":"hi")"), E::kBadRequest, "messages"},
      {"message_not_object", submit_with(R"("messages":["hi"])"), E::kBadRequest, "messages[0]"},
      {"unknown_role", submit_with(R"("messages":[{"role":"wizard","content":"x"}])"), E::kBadRequest, "messages[0].role"},
      {"missing_content", submit_with(R"("messages":[{"role":"user"}])"), E::kBadRequest, "messages[0].content"},
      {"content_wrong_type", submit_with(R"("messages":[{"role":"user","content":[1]}])"), E::kBadRequest, "messages[0].content"},
      {"thinking_on_user", submit_with(R"("messages":[{"role":"user","content":"x","thinking":"y"}])"), E::kBadRequest, "thinking"},
      {"unknown_message_field", submit_with(R"("messages":[{"role":"user","content":"x","mood":1}])"), E::kBadRequest, "messages[0].mood"},
      {"empty_prompt", submit_with(R"("prompt":"")"), E::kBadRequest, "prompt"},
      {"params_not_object", submit_with(R"("prompt":"a","params":[])"), E::kBadRequest, "params"},
      {"unknown_param", with_params(R"("temp":1)"), E::kBadRequest, "params.temp"},
      {"max_tokens_zero", with_params(R"("max_tokens":0)"), E::kBadRequest, "params.max_tokens"},
      {"max_tokens_negative", with_params(R"("max_tokens":-5)"), E::kBadRequest, "params.max_tokens"},
      {"max_tokens_huge", with_params(R"("max_tokens":1000000000000)"), E::kBadRequest, "server limit"},
      {"max_tokens_beyond_int64", with_params(R"("max_tokens":99999999999999999999)"), E::kBadRequest, "params.max_tokens"},
      {"max_tokens_float", with_params(R"("max_tokens":1.5)"), E::kBadRequest, "params.max_tokens"},
      {"temperature_negative", with_params(R"("temperature":-0.1)"), E::kBadRequest, "params.temperature"},
      {"temperature_infinite", with_params(R"("temperature":1e999)"), E::kBadRequest, "out of range"},
      {"temperature_nan_string", with_params(R"("temperature":"NaN")"), E::kBadRequest, "params.temperature"},
      {"top_p_zero", with_params(R"("top_p":0)"), E::kBadRequest, "params.top_p"},
      {"top_p_above_one", with_params(R"("top_p":1.5)"), E::kBadRequest, "params.top_p"},
      {"top_k_negative", with_params(R"("top_k":-1)"), E::kBadRequest, "params.top_k"},
      {"seed_negative", with_params(R"("seed":-1)"), E::kBadRequest, "params.seed"},
      {"stop_not_array", with_params(R"("stop":"END")"), E::kBadRequest, "params.stop"},
      {"stop_item_number", with_params(R"("stop":["a",3])"), E::kBadRequest, "params.stop[1]"},
      {"reasoning_effort_unknown", with_params(R"("reasoning_effort":"extreme")"), E::kBadRequest, "reasoning_effort"},
      {"stream_not_bool", with_params(R"("stream":"yes")"), E::kBadRequest, "params.stream"},
      {"tool_schema_not_object",
       with_params(R"("tools":[{"type":"function","function":{"name":"f","parameters":"{}"}}])"),
       E::kBadRequest, "params.tools[0].function.parameters"},
      {"tool_type_not_function", with_params(R"("tools":[{"type":"retrieval"}])"), E::kBadRequest, "params.tools[0].type"},
      {"tool_name_invalid",
       with_params(R"("tools":[{"type":"function","function":{"name":"no spaces"}}])"), E::kBadRequest, "name"},
      {"tokens_empty", submit_with(R"("tokens":[])"), E::kBadRequest, "tokens"},
      {"tokens_negative", submit_with(R"("tokens":[1,-2])"), E::kBadRequest, "tokens[1]"},
      {"tokens_beyond_vocab", submit_with(R"("tokens":[1000])"), E::kBadRequest, "tokens[0]"},
      {"tokens_float", submit_with(R"("tokens":[1.0])"), E::kBadRequest, "tokens[0]"},
      {"prompt_longer_than_context", submit_with(R"("tokens":[1,2,3,4,5,6,7,8])"), E::kContextLength, "context"},
      {"invalid_utf8_bytes", submit_with("\"prompt\":\"caf\xC3\x28\""), E::kInvalidUtf8, "offset"},
      {"lone_surrogate_escape", submit_with(R"("prompt":"\ud800")"), E::kInvalidUtf8, ""},
      {"oversized_frame", submit_with("\"prompt\":\"" + std::string(70 * 1024, 'a') + "\""), E::kTooLarge, "limit"},
      {"deep_nesting", with_params(R"("tools":)" + std::string(100, '[') + std::string(100, ']')), E::kBadRequest, "nested"},
      {"duplicate_key", R"({"v":1,"type":"health","type":"stats"})", E::kBadRequest, "duplicate key 'type'"},
      {"duplicate_nested_key", with_params(R"("top_k":1,"top_k":-1)"), E::kBadRequest, "duplicate key 'top_k'"},
      {"cancel_missing_id", R"({"v":1,"type":"cancel"})", E::kBadRequest, "id"},
      {"cancel_unknown_field", R"({"v":1,"type":"cancel","id":"a","force":true})", E::kBadRequest, "force"},
      {"health_unknown_field", R"({"v":1,"type":"health","verbose":true})", E::kBadRequest, "verbose"},
  };
}

// Readable names in failure output instead of gtest's byte dump.
void PrintTo(const BadCase& c, std::ostream* os) { *os << c.name; }

class BadInput : public ::testing::TestWithParam<BadCase> {};

// The parameterised test stays in the anonymous namespace with its fixture: a test class
// deriving from an internal-linkage fixture outside it draws -Wsubobject-linkage once the
// file is compiled inside a unity batch.
TEST_P(BadInput, MapsToItsErrorCode) {
  const BadCase& c = GetParam();
  Result<ClientMessage> r = parse_client_message(c.frame, test_limits());
  ASSERT_FALSE(r.ok()) << c.name << " was accepted";
  EXPECT_EQ(error_code_string(r.error().code), std::string(error_code_string(c.code)))
      << c.name << ": " << r.error().message;
  EXPECT_NE(r.error().message.find(c.message_contains), std::string::npos)
      << c.name << ": message '" << r.error().message << "' lacks '" << c.message_contains << "'";
}

INSTANTIATE_TEST_SUITE_P(Suite, BadInput, ::testing::ValuesIn(bad_cases()),
                         [](const auto& info) { return std::string(info.param.name); });

}  // namespace

TEST(BadInputContext, RefusedSubmitNamesItsIdAndTerminatesIt) {
  auto r = parse_client_message(with_params(R"("top_k":-1)"), test_limits());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().id, "r1");
  EXPECT_EQ(r.error().about, "submit");
  ErrorReply reply = make_error_reply(r.error());
  EXPECT_EQ(reply.id, "r1");  // the client's request r1 ends here
  EXPECT_TRUE(is_terminal(ServerMessage{reply}));
}

TEST(BadInputContext, RefusedCancelDoesNotTerminateAnything) {
  auto r = parse_client_message(R"({"v":1,"type":"cancel","id":"r1","x":1})", test_limits());
  ASSERT_FALSE(r.ok());
  ErrorReply reply = make_error_reply(r.error());
  EXPECT_FALSE(reply.id);
  EXPECT_EQ(reply.ref, "r1");
}

TEST(BadInputContext, ValidEdgeValuesAreAccepted) {
  const Limits l = test_limits();
  for (const std::string& f : {
           with_params(R"("max_tokens":4096,"temperature":0,"top_p":1,"top_k":0,"seed":0)"),
           submit_with(R"("tokens":[0,1,2,3,4,5,6])"),  // 7 < context 8
           submit_with(R"("messages":[{"role":"assistant","content":null,"tool_calls":[{"function":{"name":"f","arguments":{"a":1}}}]}])"),
           with_params(R"("temperature":null)"),  // null = not given
       }) {
    auto r = parse_client_message(f, l);
    EXPECT_TRUE(r.ok()) << f << " -> " << (r.ok() ? "" : r.error().message);
  }
  Submit s;
  s.id = "x";
  EXPECT_FALSE(check_prompt_length(s, 7, l));
  auto e = check_prompt_length(s, 8, l);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, ErrorCode::kContextLength);
}
