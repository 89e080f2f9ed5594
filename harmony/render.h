#pragma once
// Renders a chat request in OpenAI's harmony format: exactly the text (and ids) gpt-oss's
// own chat template (chat_template.jinja in the model repo) produces:
//
//   <|start|>system<|message|>{identity, knowledge cutoff, date, Reasoning: .., channels}<|end|>
//   <|start|>developer<|message|># Instructions\n\n{system/developer text}\n\n# Tools ...<|end|>
//   <|start|>user<|message|>{text}<|end|>
//   <|start|>assistant<|channel|>final<|message|>{text}<|end|>
//   <|start|>assistant<|channel|>analysis<|message|>{thinking}<|end|>         (before a tool call)
//   <|start|>assistant to=functions.NAME<|channel|>commentary json<|message|>{args}<|call|>
//   <|start|>functions.NAME to=assistant<|channel|>commentary<|message|>{result as JSON}<|end|>
//   <|start|>assistant                                                          (generation prompt)
//
// Where the template would render nonsense or fail, we throw kInvalidArgument instead:
// unknown roles, a system/developer message after the first, channel tags inside content,
// a tool result with no preceding call, content and thinking both set beside a tool call.
//
// Ids: the structural tokens are special ids; every text run between them is encoded as
// plain text, so a user who types "<|end|>" gets the characters, not the token. For text
// without such strings this is identical to tokenizing the rendered text with specials on.
#include <cstdint>
#include <string>
#include <vector>

#include "harmony/conversation.h"
#include "tokenizer/tokenizer.h"

namespace gossamer::harmony {

struct RenderedPrompt {
  std::string text;
  std::vector<uint32_t> ids;
};

RenderedPrompt render(const Tokenizer& tok, const ChatRequest& request);
// Text only, no tokenizer needed.
std::string render_text(const ChatRequest& request);

}  // namespace gossamer::harmony
