// The streaming harmony parser on recorded-style model outputs: a final answer alone,
// analysis then final, a tool call with JSON arguments, a stream cut short, and garbage
// (stray specials, reserved and undefined ids, missing headers). Model output never
// throws; deltas are valid UTF-8 and concatenate to the message content.
#include "harmony/completion.h"
#include "tokenizer/utf8.h"
#include "tests/model/test_tokenizer_support.h"

namespace gossamer::tok_test {
namespace {

using harmony::HarmonyEvent;
using harmony::MessageEnd;

class HarmonyParser : public RealTokenizerTest {
 protected:
  std::vector<uint32_t> ids(const std::string& s) const { return tok().encode(s, SpecialTokens::kRecognise); }

  // Feeds ids one at a time and checks the event stream against the final messages.
  harmony::Completion stream(const std::vector<uint32_t>& generated) const {
    harmony::HarmonyStreamParser p(tok());
    std::vector<HarmonyEvent> events;
    for (uint32_t id : generated) {
      if (p.push(id, events)) break;
    }
    p.finish(events);
    std::vector<std::string> rebuilt(p.messages().size());
    std::vector<int> starts(p.messages().size()), ends(p.messages().size());
    for (const auto& e : events) {
      EXPECT_LT(e.message, p.messages().size());
      if (e.kind == HarmonyEvent::Kind::kMessageStart) ++starts[e.message];
      if (e.kind == HarmonyEvent::Kind::kMessageEnd) ++ends[e.message];
      if (e.kind == HarmonyEvent::Kind::kContentDelta) {
        EXPECT_EQ(starts[e.message], 1) << "delta before its message started";
        EXPECT_EQ(tok::find_invalid_utf8(e.delta), std::string::npos) << "delta is not valid UTF-8";
        rebuilt[e.message] += e.delta;
      }
    }
    for (size_t i = 0; i < p.messages().size(); ++i) {
      EXPECT_EQ(starts[i], 1);
      EXPECT_EQ(ends[i], 1);
      EXPECT_EQ(rebuilt[i], p.messages()[i].content);
      EXPECT_NE(p.messages()[i].end, MessageEnd::kOpen);
    }
    // The one-shot helper agrees with streaming.
    const harmony::Completion c = harmony::parse_completion(tok(), generated);
    EXPECT_EQ(c.messages.size(), p.messages().size());
    return c;
  }
};

TEST_F(HarmonyParser, FinalOnly) {
  const auto c = stream(ids("<|channel|>final<|message|>4<|return|>"));
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].role, "assistant");
  EXPECT_EQ(c.messages[0].channel, "final");
  EXPECT_FALSE(c.messages[0].channel_inferred);
  EXPECT_EQ(c.messages[0].end, MessageEnd::kReturn);
  EXPECT_EQ(c.final_text, "4");
  EXPECT_TRUE(c.stopped);
  EXPECT_EQ(c.ignored_tokens, 0u);
}

TEST_F(HarmonyParser, AnalysisThenFinal) {
  const auto c = stream(ids("<|channel|>analysis<|message|>User asks 2+2. Answer 4.<|end|>"
                            "<|start|>assistant<|channel|>final<|message|>2 + 2 = **4** ✅<|return|>"));
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[0].channel, "analysis");
  EXPECT_EQ(c.messages[0].end, MessageEnd::kEnd);
  EXPECT_EQ(c.analysis_text, "User asks 2+2. Answer 4.");
  EXPECT_EQ(c.final_text, "2 + 2 = **4** ✅");
  EXPECT_TRUE(c.tool_calls.empty());
}

TEST_F(HarmonyParser, ToolCallWithJsonArguments) {
  const auto c = stream(ids("<|channel|>analysis<|message|>Need weather.<|end|>"
                            "<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json"
                            "<|message|>{\"city\": \"Paris\", \"unit\": \"celsius\"}<|call|>"));
  ASSERT_EQ(c.messages.size(), 2u);
  ASSERT_EQ(c.tool_calls.size(), 1u);
  EXPECT_EQ(c.tool_calls[0].recipient, "functions.get_weather");
  EXPECT_EQ(c.tool_calls[0].name, "get_weather");
  EXPECT_EQ(c.tool_calls[0].content_type, "json");
  EXPECT_EQ(c.tool_calls[0].arguments, "{\"city\": \"Paris\", \"unit\": \"celsius\"}");
  EXPECT_EQ(c.messages[1].channel, "commentary");
  EXPECT_EQ(c.messages[1].end, MessageEnd::kCall);
  EXPECT_TRUE(c.final_text.empty());  // a tool call never leaks into the answer
}

TEST_F(HarmonyParser, ToolCallWithRecipientBeforeChannel) {
  // The template's own spelling (recipient in the role part, bare content type).
  const auto c = stream(ids(" to=functions.lookup<|channel|>commentary json<|message|>{\"q\": 1}<|call|>"));
  ASSERT_EQ(c.tool_calls.size(), 1u);
  EXPECT_EQ(c.tool_calls[0].name, "lookup");
  EXPECT_EQ(c.tool_calls[0].content_type, "json");
}

TEST_F(HarmonyParser, TruncatedStream) {
  auto generated = ids("<|channel|>analysis<|message|>Thinking<|end|><|start|>assistant<|channel|>final<|message|>The answer is 4");
  generated.push_back(tok().encode("𓀀", SpecialTokens::kAsText)[0]);  // first byte of a 4-byte character
  const auto c = stream(generated);
  ASSERT_EQ(c.messages.size(), 2u);
  EXPECT_EQ(c.messages[1].end, MessageEnd::kTruncated);
  EXPECT_FALSE(c.stopped);
  EXPECT_EQ(c.final_text.rfind("The answer is 4", 0), 0u);
  // Cut inside the header: the metadata survives.
  const auto h = stream(ids("<|channel|>analysis<|message|>x<|end|><|start|>assistant<|channel|>final"));
  ASSERT_EQ(h.messages.size(), 2u);
  EXPECT_EQ(h.messages[1].channel, "final");
  EXPECT_EQ(h.messages[1].end, MessageEnd::kTruncated);
}

TEST_F(HarmonyParser, GarbageTokensAreDroppedNotFatal) {
  std::vector<uint32_t> g = ids("<|channel|>final<|message|>Hel");
  g.push_back(tok().special_id("<|reserved_200000|>"));
  g.push_back(200500);      // a row of the 201088-row vocabulary that the tokenizer does not define
  g.push_back(0xFFFFFFFFu); // nonsense
  g.push_back(tok().special_id("<|message|>"));
  g.push_back(tok().special_id("<|constrain|>"));
  const auto rest = ids("lo<|end|><|end|><|reserved_200001|><|return|>");
  g.insert(g.end(), rest.begin(), rest.end());
  const auto c = stream(g);
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.final_text, "Hello");
  EXPECT_EQ(c.ignored_tokens, 7u);
  EXPECT_TRUE(c.stopped);
}

TEST_F(HarmonyParser, MissingChannelIsInferred) {
  const auto c = stream(ids("<|message|>Just text<|return|>"));
  ASSERT_EQ(c.messages.size(), 1u);
  EXPECT_EQ(c.messages[0].channel, "final");
  EXPECT_TRUE(c.messages[0].channel_inferred);
  EXPECT_EQ(c.final_text, "Just text");
  const auto t = stream(ids(" to=functions.f<|message|>{}<|call|>"));
  ASSERT_EQ(t.messages.size(), 1u);
  EXPECT_EQ(t.messages[0].channel, "commentary");
  ASSERT_EQ(t.tool_calls.size(), 1u);
}

TEST_F(HarmonyParser, NoHeaderAtAllIsTakenAsTheAnswer) {
  const auto c = stream(ids("Plain answer without harmony.<|return|>"));
  EXPECT_EQ(c.final_text, "Plain answer without harmony.");
  const auto t = stream(ids("Cut off plain answer"));
  EXPECT_EQ(t.final_text, "Cut off plain answer");
}

TEST_F(HarmonyParser, MissingStartBeforeNextChannelRecovers) {
  // Seen in the wild: <|end|> then straight to <|channel|>, or a new <|channel|> inside content.
  const auto a = stream(ids("<|channel|>analysis<|message|>think<|end|><|channel|>final<|message|>answer<|return|>"));
  EXPECT_EQ(a.analysis_text, "think");
  EXPECT_EQ(a.final_text, "answer");
  const auto b = stream(ids("<|channel|>analysis<|message|>think<|channel|>final<|message|>answer<|return|>"));
  ASSERT_EQ(b.messages.size(), 2u);
  EXPECT_EQ(b.messages[0].end, MessageEnd::kInterrupted);
  EXPECT_EQ(b.final_text, "answer");
}

TEST_F(HarmonyParser, RunawayHeaderBecomesContent) {
  std::string long_header = "<|channel|>final";
  for (int i = 0; i < 100; ++i) long_header += " word";
  const auto c = stream(ids(long_header));
  ASSERT_FALSE(c.messages.empty());
  EXPECT_NE(c.messages.back().content.find("word"), std::string::npos);
}

TEST_F(HarmonyParser, StopsAtReturnAndIgnoresTheRest) {
  harmony::HarmonyStreamParser p(tok());
  std::vector<HarmonyEvent> events;
  bool stopped = false;
  for (uint32_t id : ids("<|channel|>final<|message|>ok<|return|>more text<|start|>")) stopped = p.push(id, events);
  EXPECT_TRUE(stopped);
  EXPECT_EQ(p.stop_token(), tok().special_id("<|return|>"));
  ASSERT_EQ(p.messages().size(), 1u);
  EXPECT_EQ(p.messages()[0].content, "ok");
}

TEST_F(HarmonyParser, EndOfTextStopsToo) {
  const auto c = stream(ids("<|channel|>final<|message|>bye<|endoftext|>"));
  EXPECT_TRUE(c.stopped);
  EXPECT_EQ(c.messages[0].end, MessageEnd::kEndOfText);
  const auto stops = harmony::stop_token_ids(tok());
  EXPECT_EQ(stops, (std::vector<uint32_t>{200002, 200012, 199999}));
}

TEST_F(HarmonyParser, ParsesWhatTheRendererWrites) {
  // An assistant turn rendered by us parses back to the same channel and content.
  const harmony::Json r = harmony::Json::parse(R"({"messages": [{"role": "user", "content": "x"},
      {"role": "assistant", "content": "Bonjour 👋", "thinking": "French"}], "add_generation_prompt": false,
      "current_date": "2026-11-26"})");
  const auto p = harmony::render_request_json(tok(), r);
  harmony::HarmonyParserOptions opts;
  opts.initial_role = "";
  const auto c = harmony::parse_completion(tok(), p.ids, opts);
  EXPECT_EQ(c.final_text, "Bonjour 👋");
  EXPECT_EQ(c.analysis_text, "French");
  ASSERT_GE(c.messages.size(), 3u);
  EXPECT_EQ(c.messages[0].role, "system");
  EXPECT_EQ(c.messages[1].role, "user");
}

}  // namespace
}  // namespace gossamer::tok_test
