// The wire protocol's frame parsers (protocol/parse.h): client frames as the server reads
// them and server frames as the client library reads them, from arbitrary bytes.
// Properties: no crash, never an `internal` refusal (the parsers' catch-all for a bug), and
// a frame that parses re-encodes to a frame that parses to the same encoding.
#include <string>

#include "fuzz/fuzz_support.h"
#include "protocol/encode.h"
#include "protocol/parse.h"

using namespace gossamer;
using namespace gossamer::protocol;

namespace {

template <class Parse>
void check(std::string_view frame, Parse&& parse, const char* side) {
  auto first = parse(frame);
  if (!first) {
    if (first.error().code == protocol::ErrorCode::kInternal)
      fuzz::finding(side, "internal refusal: " + first.error().message);
    return;
  }
  std::string encoded;
  try {
    encoded = encode(first.value());
  } catch (const std::exception& e) {
    fuzz::finding(side, std::string("encoding a parsed message threw: ") + e.what());
  }
  auto again = parse(encoded);
  if (!again) fuzz::finding(side, "re-encoded frame refused (" + again.error().message + "): " + encoded);
  if (encode(again.value()) != encoded)
    fuzz::finding(side, "re-encoded frame changed: " + encoded + " -> " + encode(again.value()));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view frame = fuzz::as_text(data, size);
  // The limits of a served gpt-oss: token prompts checked against the vocabulary and the
  // context, so those paths run too.
  Limits limits;
  limits.context_length = 4096;
  limits.vocab_size = 201088;
  check(frame, [&](std::string_view f) { return parse_client_message(f, limits); }, "client frame");
  check(frame, [](std::string_view f) { return parse_server_message(f); }, "server frame");
  return 0;
}
