#pragma once
// What one request's generated ids become on the wire: harmony channel parsing, UTF-8-safe
// text, stop strings, tool-call pieces, and the whole output for stream=false requests.
//
// Stop strings are matched across token boundaries. To never stream text that a later
// token turns into the start of a stop string, the last (longest stop - 1) bytes of the
// current channel are held back until they can no longer begin a match; the concatenated
// deltas are therefore exactly the final text (the stop string itself is not included).
//
// Thread-safety: none; one request's stream is used by the step thread only.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "harmony/parser.h"
#include "tokenizer/tokenizer.h"
#include "tokenizer/stream.h"
#include "protocol/server_messages.h"

namespace gossamer::coordinator {

struct OutputPiece {
  protocol::Channel channel = protocol::Channel::kFinal;
  std::string text;
  std::vector<int32_t> token_ids;
  std::optional<protocol::ToolCallDelta> tool_call;
};

class OutputStream {
 public:
  // harmony: parse the output as harmony messages (a rendered chat prompt); otherwise it is
  // plain text on the final channel (a raw `tokens` prompt), still ending at the harmony
  // stop ids (<|return|>, <|call|>, <|endoftext|>).
  OutputStream(const Tokenizer& tok, std::vector<std::string> stop_strings, bool harmony = true);

  // Consumes one generated id; appends the pieces ready to send. Returns the finish reason
  // when this id ends the generation (stop token, <|call|>, stop string).
  std::optional<protocol::FinishReason> push(int32_t id, std::vector<OutputPiece>& pieces);
  // The generation ended for another reason (length, context, cancel): flushes what is held.
  void finish(std::vector<OutputPiece>& pieces);

  // Everything emitted so far, per channel (done.output for stream=false).
  const protocol::Output& output() const { return output_; }

 private:
  void on_content(const harmony::HarmonyMessage& m, size_t message, const std::string& delta,
                  std::vector<OutputPiece>& pieces);
  void emit(protocol::Channel ch, std::string text, std::vector<OutputPiece>& pieces,
            std::optional<protocol::ToolCallDelta> tool = std::nullopt);
  void release_held(bool all, std::vector<OutputPiece>& pieces);

  harmony::HarmonyStreamParser parser_;
  bool harmony_;
  Tokenizer tok_;
  IncrementalDecoder plain_;
  std::vector<uint32_t> stop_ids_;
  std::vector<std::string> stop_;
  size_t max_stop_ = 0;
  uint32_t call_id_ = 0;
  std::vector<int32_t> ids_;      // ids not yet attached to a piece
  protocol::Channel held_channel_ = protocol::Channel::kFinal;
  std::string held_;              // text of held_channel_ not yet sent
  bool stopped_by_string_ = false;
  // Tool calls: message index -> call index.
  std::vector<std::pair<size_t, int64_t>> calls_;
  protocol::Output output_;
};

}  // namespace gossamer::coordinator
