// The HTTP gateway's request mapping (gateway/openai_request.h): OpenAI chat and completion
// bodies from arbitrary bytes. Properties: no crash; a body is either refused with an
// ApiError of a 4xx status (a 5xx here would blame the server for the client's input) or
// becomes a submit frame that the front door's own parser accepts.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "fuzz/fuzz_support.h"
#include "gateway/api_error.h"
#include "gateway/openai_request.h"
#include "protocol/parse.h"

using namespace gossamer;

namespace {

// A stand-in for the tokenizer of /v1/completions: one id per byte (the mapping, not the
// tokenizer, is under test here; fuzz_tokenizer covers that).
std::vector<int32_t> byte_ids(const std::string& text) { return {text.begin(), text.end()}; }

template <class Map>
void check(const char* what, Map&& map) {
  try {
    gateway::UpstreamRequest r = map();
    const std::string frame = gateway::finish_submit(r, "fuzz-1");
    protocol::Limits limits;
    auto parsed = protocol::parse_client_message(frame, limits);
    if (!parsed) fuzz::finding(what, "finish_submit returned a frame the front door refuses: " + frame);
  } catch (const gateway::ApiError& e) {
    if (e.status < 400 || e.status >= 500)
      fuzz::finding(what, "refused with status " + std::to_string(e.status) + ": " + e.message);
  } catch (const gossamer::Error& e) {
    fuzz::finding(what, std::string("gossamer::Error escaped the mapping: ") + e.what());
  } catch (const std::exception& e) {
    fuzz::finding(what, std::string("exception escaped the mapping: ") + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The gateway answers a body that is not JSON with a 400 before the mapping runs.
  const nlohmann::json body = nlohmann::json::parse(fuzz::as_text(data, size), nullptr, false);
  if (body.is_discarded()) return 0;
  check("chat.completions", [&] { return gateway::chat_completion_request(body); });
  check("completions", [&] { return gateway::completion_request(body, byte_ids); });
  return 0;
}
