// The harmony stream parser (harmony/parser.h) on arbitrary token streams: what a model
// might generate, well-formed or not. Nothing there may throw on model output.
//
// Input bytes -> ids, so the fuzzer reaches the specials easily: a byte below 0x20 is the
// id 199998 + byte (<|startoftext|> .. <|endofprompt|>, reserved ids and a few undefined
// ones past the vocabulary); a printable ASCII byte is that character's token; a byte from
// 0x80 starts a 3-byte id anywhere in (and a little past) the vocabulary, which includes
// tokens that cut a UTF-8 character. The first byte picks the options.
// Properties: no exception; every delta is valid UTF-8 and the deltas of a message add up
// to its content; start/delta/end events come in order; after the stop nothing changes.
#include <string>
#include <vector>

#include "fuzz/fuzz_support.h"
#include "harmony/parser.h"

using namespace gossamer;
using namespace gossamer::harmony;

namespace {

std::vector<uint32_t> to_ids(const Tokenizer& tok, const uint8_t* data, size_t size) {
  std::vector<uint32_t> ids;
  for (size_t i = 0; i < size;) {
    const uint8_t b = data[i];
    if (b < 0x20) {
      ids.push_back(199998 + b);
      ++i;
    } else if (b < 0x80) {
      auto id = tok.find_token(std::string(1, static_cast<char>(b)));
      ids.push_back(id ? *id : 0);
      ++i;
    } else {
      uint32_t v = b & 0x7F;
      for (size_t k = 1; k < 3; ++k) v = (v << 8) | (i + k < size ? data[i + k] : 0);
      ids.push_back(v % (tok.id_limit() + 32));
      i += 3;
    }
  }
  return ids;
}

bool valid_utf8(const std::string& s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<uint8_t>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xE ? 3 : (c >> 3) == 0x1E ? 4 : 0;
    if (n == 0 || i + n > s.size()) return false;
    for (size_t k = 1; k < n; ++k)
      if ((static_cast<uint8_t>(s[i + k]) & 0xC0) != 0x80) return false;
    i += n;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  fuzz::real_tokenizer();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Tokenizer& tok = fuzz::real_tokenizer();
  HarmonyParserOptions options;
  if (data[0] & 1) options.initial_role = "";
  if (data[0] & 2) options.max_header_tokens = 4;
  const std::vector<uint32_t> ids = to_ids(tok, data + 1, size - 1);

  std::vector<HarmonyEvent> events;
  std::vector<std::string> streamed;  // per message, the deltas concatenated
  std::vector<int> state;             // per message: 0 started, 1 ended
  // Checks the order of events and collects each message's deltas.
  auto consume = [&](const HarmonyStreamParser& parser, const std::vector<HarmonyEvent>& events) {
    for (auto& e : events) {
      if (e.message >= parser.messages().size()) fuzz::finding("event for no message", std::to_string(e.message));
      if (e.kind == HarmonyEvent::Kind::kMessageStart) {
        if (e.message != streamed.size()) fuzz::finding("message started out of order", std::to_string(e.message));
        streamed.emplace_back();
        state.push_back(0);
        continue;
      }
      if (e.message >= streamed.size() || state[e.message] != 0)
        fuzz::finding("event for a message not open", std::to_string(e.message));
      if (e.kind == HarmonyEvent::Kind::kContentDelta) {
        if (!valid_utf8(e.delta)) fuzz::finding("delta is not valid UTF-8", e.delta);
        streamed[e.message] += e.delta;
      } else {
        state[e.message] = 1;
      }
    }
  };
  try {
    HarmonyStreamParser parser(tok, options);
    for (uint32_t id : ids) {
      const bool was_stopped = parser.stopped();
      const size_t n_messages = parser.messages().size();
      events.clear();
      const bool stopped = parser.push(id, events);
      if (was_stopped && (!events.empty() || parser.messages().size() != n_messages))
        fuzz::finding("parser changed after the stop", std::to_string(id));
      if (stopped != parser.stopped()) fuzz::finding("push() and stopped() disagree", std::to_string(id));
      consume(parser, events);
    }
    events.clear();
    parser.finish(events);
    consume(parser, events);
    const auto& messages = parser.messages();
    if (messages.size() != streamed.size()) fuzz::finding("messages without a start event", "");
    for (size_t m = 0; m < messages.size(); ++m) {
      if (messages[m].content != streamed[m]) fuzz::finding("content != its deltas", messages[m].content);
      if (messages[m].end == MessageEnd::kOpen || state[m] != 1) fuzz::finding("message left open", "");
    }
  } catch (const std::exception& e) {
    fuzz::finding("the parser threw on model output", e.what());
  }
  return 0;
}
