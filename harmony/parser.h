#pragma once
// Incremental parser for what gpt-oss generates: ids in, harmony messages out.
//
//   <|channel|>analysis<|message|>Let me think.<|end|>
//   <|start|>assistant<|channel|>final<|message|>Hello!<|return|>
//   <|start|>assistant<|channel|>commentary to=functions.f <|constrain|>json<|message|>{..}<|call|>
//
// Feed ids one at a time (push) and forward the events: a message starts once its header
// (role, channel, recipient, content type) is complete, so every content delta carries a
// known channel; deltas are valid UTF-8 (a character split over ids is held back).
// Generation stops at <|return|>, <|call|> or <|endoftext|>.
//
// Models do not always emit well-formed harmony, so nothing here throws on model output:
//   - no <|channel|> in a header: the channel is inferred ("commentary" when the header
//     names a recipient, else "final") and flagged channel_inferred;
//   - <|channel|> or <|message|> without <|start|>: an implicit assistant header;
//   - <|start|> or <|channel|> in the middle of content: the open message is closed as
//     kInterrupted and a new one begins;
//   - stray specials (<|message|> in content, <|end|> between messages, reserved and
//     undefined ids): dropped and counted in ignored_tokens();
//   - a header that never ends (max_header_tokens) or plain text with no header at all:
//     taken as content of an inferred final message;
//   - a stream cut short: finish() closes the open message as kTruncated.
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tokenizer/tokenizer.h"
#include "tokenizer/stream.h"

namespace gossamer::harmony {

enum class MessageEnd { kOpen, kEnd, kReturn, kCall, kEndOfText, kInterrupted, kTruncated };
const char* message_end_name(MessageEnd e);

struct HarmonyMessage {
  std::string role = "assistant";
  std::string channel;       // analysis, commentary, final (inferred for assistant messages)
  std::string recipient;     // "functions.get_weather" for a tool call, else empty
  std::string content_type;  // "json" for "<|constrain|>json" / "commentary json", else empty
  std::string content;
  MessageEnd end = MessageEnd::kOpen;
  bool channel_inferred = false;
};

struct HarmonyEvent {
  enum class Kind { kMessageStart, kContentDelta, kMessageEnd };
  Kind kind;
  size_t message;      // index into HarmonyStreamParser::messages()
  std::string delta;   // kContentDelta only
};

struct HarmonyParserOptions {
  // The role whose header the prompt left open: render(...) ends with "<|start|>assistant",
  // so the first generated token continues that header. Empty: expect <|start|> first.
  std::string initial_role = "assistant";
  size_t max_header_tokens = 64;
};

class HarmonyStreamParser {
 public:
  explicit HarmonyStreamParser(const Tokenizer& tok, HarmonyParserOptions options = {});

  // Consumes one id and appends the events it caused. Returns true once stopped; ids after
  // the stop are ignored.
  bool push(uint32_t id, std::vector<HarmonyEvent>& events);
  // End of the stream (max tokens, cancel): closes whatever is open.
  void finish(std::vector<HarmonyEvent>& events);

  bool stopped() const { return stopped_; }
  uint32_t stop_token() const { return stop_token_; }  // valid when stopped()
  const std::vector<HarmonyMessage>& messages() const { return messages_; }
  size_t ignored_tokens() const { return ignored_; }

 private:
  enum class State { kIdle, kHeader, kContent };
  struct Ids {
    uint32_t start, end, message, channel, constrain, ret, call, eot;
  };

  void begin_header(bool explicit_start);
  void open_message(std::vector<HarmonyEvent>& events);
  void close_message(MessageEnd how, std::vector<HarmonyEvent>& events);
  void header_as_content(std::vector<HarmonyEvent>& events);
  void stop(uint32_t id, MessageEnd how, std::vector<HarmonyEvent>& events);

  Tokenizer tok_;
  HarmonyParserOptions options_;
  Ids ids_;
  State state_ = State::kIdle;
  std::vector<HarmonyMessage> messages_;
  IncrementalDecoder decoder_;
  std::string header_;             // header text, with " <|channel|> " style markers
  std::string header_raw_;         // the same bytes as generated, for recovery as content
  size_t header_tokens_ = 0;
  bool header_explicit_ = false;   // began with <|start|> (so its first word is the role)
  bool header_has_marker_ = false; // saw <|channel|> or <|constrain|>
  std::string pending_role_;
  bool stopped_ = false;
  uint32_t stop_token_ = 0;
  size_t ignored_ = 0;
};

}  // namespace gossamer::harmony
