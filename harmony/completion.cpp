#include "harmony/completion.h"

namespace gossamer::harmony {

RenderedPrompt render_user_prompt(const Tokenizer& tok, const std::string& user_text, const PromptOptions& options) {
  ChatRequest r;
  auto turn = [](chat::Role role, const std::string& text) {
    chat::Message m;
    m.role = role;
    m.content = Json(text);
    return m;
  };
  if (!options.instructions.empty()) r.messages.push_back(turn(chat::Role::kDeveloper, options.instructions));
  r.messages.push_back(turn(chat::Role::kUser, user_text));
  r.reasoning_effort = options.reasoning_effort;
  r.current_date = options.current_date;
  r.add_generation_prompt = true;
  return render(tok, r);
}

RenderedPrompt render_request_json(const Tokenizer& tok, const Json& request) {
  return render(tok, chat_request_from_json(request));
}

std::vector<uint32_t> stop_token_ids(const Tokenizer& tok) {
  return {tok.special_id("<|return|>"), tok.special_id("<|call|>"), tok.special_id("<|endoftext|>")};
}

Completion parse_completion(const Tokenizer& tok, std::span<const uint32_t> generated, HarmonyParserOptions options) {
  HarmonyStreamParser parser(tok, std::move(options));
  std::vector<HarmonyEvent> events;
  for (uint32_t id : generated) {
    if (parser.push(id, events)) break;
  }
  parser.finish(events);
  Completion c;
  c.messages = parser.messages();
  c.stopped = parser.stopped();
  c.ignored_tokens = parser.ignored_tokens();
  for (const HarmonyMessage& m : c.messages) {
    if (m.role != "assistant") continue;
    if (!m.recipient.empty()) {
      const size_t dot = m.recipient.find('.');
      c.tool_calls.push_back({m.recipient, dot == std::string::npos ? m.recipient : m.recipient.substr(dot + 1), m.content,
                              m.content_type});
    } else if (m.channel == "final") {
      c.final_text += m.content;
    } else if (m.channel == "analysis") {
      c.analysis_text += m.content;
    }
  }
  return c;
}

}  // namespace gossamer::harmony
