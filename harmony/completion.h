#pragma once
// The harmony surface the `generate` verb and the serving layer use:
//   prompt  = render_user_prompt(tok, "What is 2+2?", opts)     -> ids to prefill
//   stop on  stop_token_ids(tok)                                 (<|return|>, <|call|>, <|endoftext|>)
//   stream   HarmonyStreamParser (harmony_parser.h), forwarding deltas with their channel
//   or, after the fact, parse_completion(tok, generated_ids).final_text
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "harmony/parser.h"
#include "harmony/render.h"

namespace gossamer::harmony {

struct PromptOptions {
  ReasoningEffort reasoning_effort = ReasoningEffort::kMedium;
  std::string current_date;   // empty: today
  std::string instructions;   // optional system/developer instructions
};

// One user message, rendered with the generation prompt ("<|start|>assistant").
RenderedPrompt render_user_prompt(const Tokenizer& tok, const std::string& user_text, const PromptOptions& options = {});

// A --messages file / request body (see harmony_conversation.h) rendered to ids.
RenderedPrompt render_request_json(const Tokenizer& tok, const Json& request);

// Ids that end an assistant turn: <|return|> (answer done), <|call|> (tool call),
// <|endoftext|> (the HF generation_config's other eos).
std::vector<uint32_t> stop_token_ids(const Tokenizer& tok);

struct ToolCallOut {
  std::string recipient;  // "functions.get_weather"
  std::string name;       // "get_weather" (recipient without its namespace)
  std::string arguments;  // the raw text the model wrote, normally JSON
  std::string content_type;
};

struct Completion {
  std::vector<HarmonyMessage> messages;
  std::string final_text;     // the final channel's content, concatenated
  std::string analysis_text;  // the analysis channel's content
  std::vector<ToolCallOut> tool_calls;
  bool stopped = false;       // ended with a stop token (not cut off)
  size_t ignored_tokens = 0;
};

// Parses the ids generated after a render(...) prompt (never throws on model output).
Completion parse_completion(const Tokenizer& tok, std::span<const uint32_t> generated, HarmonyParserOptions options = {});

}  // namespace gossamer::harmony
