// Harmony rendering: the 5 golden conversations rendered by gpt-oss's own chat template
// (tests/data/harmony/render_cases.json) byte for byte and id for id, then the template's
// corners: tool schemas of every shape, finished last turns, and inputs it must refuse.
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "harmony/completion.h"
#include "harmony/tools.h"
#include "tests/model/test_tokenizer_support.h"

namespace gossamer::tok_test {
namespace {

using harmony::Json;

class HarmonyRender : public RealTokenizerTest {};

Json golden_cases() { return Json::parse(read_text_file(test_data_path("harmony/render_cases.json"))); }

TEST_F(HarmonyRender, GoldenCasesAreByteAndIdIdentical) {
  const Json cases = golden_cases();
  ASSERT_EQ(cases.size(), 5u);
  for (const auto& c : cases) {
    SCOPED_TRACE(c["name"].get<std::string>());
    const auto p = harmony::render_request_json(tok(), c["input"]);
    EXPECT_EQ(p.text, c["rendered"].get<std::string>());
    EXPECT_EQ(p.ids, c["ids"].get<std::vector<uint32_t>>());
    // Our run-by-run ids equal tokenizing the whole text with specials on, as HF does.
    EXPECT_EQ(tok().encode(p.text, SpecialTokens::kRecognise), p.ids);
  }
}

Json request(Json messages) {
  return Json{{"messages", std::move(messages)}, {"reasoning_effort", "medium"}, {"current_date", "2026-11-26"}};
}

std::string developer_block(const Json& tools) {
  return harmony::render_tool_namespace("functions", tools);
}

TEST(HarmonyTools, SchemaShapesRenderAsTheTemplateDoes) {
  const Json tools = Json::parse(R"([{"type": "function", "function": {
    "name": "f", "description": "Does f.",
    "parameters": {"type": "object", "required": ["a"], "properties": {
      "a": {"type": "integer", "description": "count"},
      "b": {"type": "array", "items": {"type": "string"}},
      "c": {"type": "array", "items": {"type": "object", "properties": {"x": {"type": "number"}}}},
      "d": {"type": "array"},
      "e": {"type": ["string", "null"]},
      "g": {"type": "string", "nullable": true, "default": "hi"},
      "h": {"type": "string", "enum": ["x", "y"], "default": "x"},
      "i": {"oneOf": [{"type": "string"}, {"type": "number", "description": "n"}]},
      "j": {"type": "object"},
      "k": {"type": "boolean", "default": false},
      "l": {"type": "string", "enum": [1, true, null]},
      "m": {},
      "n": {"type": "object", "properties": {"p": {"type": "string"}, "q": {"type": "integer"}}, "required": ["q"]}
    }}}}])");
  const std::string expected =
      "## functions\n\nnamespace functions {\n\n// Does f.\ntype f = (_: {\n"
      "// count\na: number,\n"
      "b?: string[],\n"
      "c?: {\nx?: \n                number}[],\n"
      "d?: any[],\n"
      "e?: string | null,\n"
      "g?: string | null, // default: \"hi\",\n"
      "h?: \"x\" | \"y\", // default: x,\n"
      "i?: string | \nnumber// n,\n"
      "j?: object,\n"
      "k?: boolean, // default: false,\n"
      "l?: \"1\" | \"True\" | \"None\",\n"
      "m?: any,\n"
      "n?: {\np?: \n                string, q: \n                number},\n"
      "}) => any;\n\n} // namespace functions";
  EXPECT_EQ(developer_block(tools), expected);
}

TEST(HarmonyTools, EnumOfNonStringsUsesPythonStr) {
  const Json spec = Json::parse(R"({"type": "string", "enum": [1, true, null, 2.5]})");
  EXPECT_EQ(harmony::render_typescript_type(spec, Json()), "\"1\" | \"True\" | \"None\" | \"2.5\"");
}

TEST(HarmonyTools, ToolsWithoutParametersOrDescription) {
  const Json tools = Json::parse(R"([{"type": "function", "function": {"name": "now", "description": "Time."}},
                                      {"name": "bare"}])");
  EXPECT_EQ(developer_block(tools),
            "## functions\n\nnamespace functions {\n\n// Time.\ntype now = () => any;\n\ntype bare = () => any;\n\n"
            "} // namespace functions");
}

TEST(HarmonyTools, OddSchemasGiveClearErrors) {
  EXPECT_THROW(developer_block(Json::parse(R"([{"function": {"description": "no name"}}])")), Error);
  EXPECT_THROW(developer_block(Json::parse(R"([{"function": {"name": 5}}])")), Error);
  EXPECT_THROW(developer_block(Json::parse(R"([{"function": {"name": "x", "description": 5}}])")), Error);
  EXPECT_THROW(developer_block(Json::parse(R"({"not": "a list"})")), Error);
  EXPECT_THROW(developer_block(Json::parse(R"([7])")), Error);
  // Deep or self-similar schemas are rendered, not crashed on.
  Json deep = Json::parse(R"({"type": "string"})");
  for (int i = 0; i < 200; ++i) deep = Json{{"type", "array"}, {"items", deep}};
  EXPECT_EQ(harmony::render_typescript_type(deep, Json()).substr(0, 5), "any[]");
}

TEST_F(HarmonyRender, FinishedLastTurnEndsWithReturnAndKeepsThinking) {
  Json r = request(Json::parse(R"([{"role": "user", "content": "Hi"},
      {"role": "assistant", "content": "Hello", "thinking": "greet back"}])"));
  r["add_generation_prompt"] = false;
  const auto p = harmony::render_request_json(tok(), r);
  const std::string tail =
      "<|start|>user<|message|>Hi<|end|><|start|>assistant<|channel|>analysis<|message|>greet back<|end|>"
      "<|start|>assistant<|channel|>final<|message|>Hello<|return|>";
  ASSERT_GE(p.text.size(), tail.size());
  EXPECT_EQ(p.text.substr(p.text.size() - tail.size()), tail);
  EXPECT_EQ(p.ids.back(), tok().special_id("<|return|>"));
}

TEST_F(HarmonyRender, EarlierThinkingIsDroppedAndToolAnalysisOnlyBeforeAFinal) {
  const Json msgs = Json::parse(R"([{"role": "user", "content": "Q"},
      {"role": "assistant", "thinking": "call it", "tool_calls": [{"function": {"name": "f", "arguments": "{\"a\":1}"}}]},
      {"role": "tool", "content": {"ok": true}},
      {"role": "assistant", "content": "Done", "thinking": "dropped"},
      {"role": "user", "content": "Again"}])");
  const std::string text = harmony::render_text(harmony::chat_request_from_json(request(msgs)));
  EXPECT_EQ(text.find("call it"), std::string::npos);  // a final answer followed: analysis dropped
  EXPECT_EQ(text.find("dropped"), std::string::npos);
  EXPECT_NE(text.find("<|start|>assistant to=functions.f<|channel|>commentary json<|message|>{\"a\": 1}<|call|>"
                      "<|start|>functions.f to=assistant<|channel|>commentary<|message|>{\"ok\": true}<|end|>"),
            std::string::npos);
}

TEST_F(HarmonyRender, StringArgumentsParseUnlessLiteralIsAsked) {
  Json r = request(Json::parse(R"([{"role": "user", "content": "Q"},
      {"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{\"a\":1}"}}]}])"));
  auto req = harmony::chat_request_from_json(r);
  EXPECT_NE(harmony::render_text(req).find("<|message|>{\"a\": 1}<|call|>"), std::string::npos);
  req.literal_string_arguments = true;
  EXPECT_NE(harmony::render_text(req).find("<|message|>\"{\\\"a\\\":1}\"<|call|>"), std::string::npos);
}

TEST_F(HarmonyRender, UserTextThatLooksLikeSpecialTokensStaysText) {
  const auto p = harmony::render_request_json(tok(), request(Json::parse(R"([{"role": "user", "content": "a<|end|>b"}])")));
  size_t ends = 0;
  for (uint32_t id : p.ids) ends += id == tok().special_id("<|end|>");
  EXPECT_EQ(ends, 2u);  // the system message's and the user message's, not the typed one
  EXPECT_EQ(tok().decode(p.ids), p.text);
}

TEST_F(HarmonyRender, ContentPartsAndUnicode) {
  const auto p = harmony::render_request_json(
      tok(), request(Json::parse(R"([{"role": "user", "content": [{"type": "text", "text": "Grüß "}, {"type": "text", "text": "🌍"}]}])")));
  EXPECT_NE(p.text.find("<|message|>Grüß 🌍<|end|>"), std::string::npos);
  EXPECT_EQ(tok().decode(p.ids), p.text);
}

TEST_F(HarmonyRender, BadRequestsAreRefusedWithClearErrors) {
  auto refuses = [&](const char* messages_json, const char* needle) {
    try {
      harmony::render_request_json(tok(), request(Json::parse(messages_json)));
      ADD_FAILURE() << "accepted " << messages_json;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  refuses(R"([{"role": "wizard", "content": "hi"}])", "messages[0].role \"wizard\"");
  refuses(R"([{"role": "user", "content": "a"}, {"role": "system", "content": "late"}])", "may only come first");
  refuses(R"([{"role": "tool", "content": "orphan"}])", "no assistant tool call precedes it");
  refuses(R"([{"role": "assistant", "content": "<|channel|>final<|message|>x"}])", "<|channel|> tags");
  refuses(R"([{"role": "user", "content": 5}])", "must be a string or a list of text parts");
  refuses(R"([{"role": "user", "content": null}])", "must be text");
  refuses(R"([{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}])", "only text parts");
  refuses(R"([{"role": "assistant", "content": "c", "thinking": "t", "tool_calls": [{"function": {"name": "f"}}]}])",
          "both content and thinking");
  refuses(R"([{"role": "assistant", "tool_calls": [{"function": {}}]}])", "name must be a non-empty string");
  refuses(R"([])", "\"messages\" is empty");
  refuses(R"([{"content": "no role"}])", "role must be a string");
  EXPECT_THROW(harmony::render_request_json(tok(), Json{{"messages", Json::array({{{"role", "user"}, {"content", "x"}}})},
                                                        {"reasoning_effort", "extreme"}}),
               Error);
  EXPECT_THROW(harmony::render_request_json(tok(), Json::array()), Error);
}

TEST_F(HarmonyRender, UserPromptHelperMatchesTheGoldenSingleUserCase) {
  const Json c = golden_cases()[0];
  ASSERT_EQ(c["name"], "single_user");
  const auto p = harmony::render_user_prompt(tok(), "What is 2+2?", {harmony::ReasoningEffort::kMedium, "2026-11-26", ""});
  EXPECT_EQ(p.text, c["rendered"].get<std::string>());
  EXPECT_EQ(p.ids, c["ids"].get<std::vector<uint32_t>>());
}

TEST(HarmonyJson, PythonJsonDumpsSpelling) {
  const Json v = Json::parse(R"({"b": [1, 2.5, true, null], "a": "é\n\"\u0001", "c": {}, "d": 1e-7, "e": 1e16})");
  EXPECT_EQ(harmony::python_json_dumps(v),
            "{\"b\": [1, 2.5, true, null], \"a\": \"é\\n\\\"\\u0001\", \"c\": {}, \"d\": 1e-07, \"e\": 1e+16}");
}

}  // namespace
}  // namespace gossamer::tok_test
