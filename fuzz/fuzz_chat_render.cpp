// The harmony chat template (harmony/conversation.h + render.h) on arbitrary request JSON:
// messages, tools, reasoning effort, dates, tool calls with any argument JSON.
// Properties: no crash, refusals are named errors, and the ids render() produces decode
// back to exactly the text render_text() gives.
#include "fuzz/fuzz_support.h"
#include "harmony/conversation.h"
#include "harmony/render.h"

using namespace gossamer;
using namespace gossamer::harmony;

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::real_tokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Json j = Json::parse(fuzz::as_text(data, size), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return 0;
  const Tokenizer& tok = fuzz::real_tokenizer();
  fuzz::expect_named_errors([&] {
    ChatRequest request = chat_request_from_json(j);
    if (request.current_date.empty()) request.current_date = "2026-01-01";  // no clock in the result
    const std::string text = render_text(request);
    const RenderedPrompt prompt = render(tok, request);
    if (prompt.text != text) fuzz::finding("render().text != render_text()", text.substr(0, 300));
    if (tok.decode(prompt.ids) != text) fuzz::finding("render() ids do not decode to its text", text.substr(0, 300));
  });
  return 0;
}
