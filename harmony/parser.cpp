#include "harmony/parser.h"

#include <sstream>

#include "tokenizer/utf8.h"

namespace gossamer::harmony {
namespace {

std::vector<std::string> words(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

}  // namespace

const char* message_end_name(MessageEnd e) {
  switch (e) {
    case MessageEnd::kOpen: return "open";
    case MessageEnd::kEnd: return "end";
    case MessageEnd::kReturn: return "return";
    case MessageEnd::kCall: return "call";
    case MessageEnd::kEndOfText: return "endoftext";
    case MessageEnd::kInterrupted: return "interrupted";
    case MessageEnd::kTruncated: return "truncated";
  }
  return "?";
}

HarmonyStreamParser::HarmonyStreamParser(const Tokenizer& tok, HarmonyParserOptions options)
    : tok_(tok), options_(std::move(options)), decoder_(tok) {
  ids_ = {tok.special_id("<|start|>"),   tok.special_id("<|end|>"),  tok.special_id("<|message|>"),
          tok.special_id("<|channel|>"), tok.special_id("<|constrain|>"), tok.special_id("<|return|>"),
          tok.special_id("<|call|>"),    tok.special_id("<|endoftext|>")};
  if (!options_.initial_role.empty()) {
    begin_header(false);
    pending_role_ = options_.initial_role;
  }
}

void HarmonyStreamParser::begin_header(bool explicit_start) {
  state_ = State::kHeader;
  header_.clear();
  header_raw_.clear();
  header_tokens_ = 0;
  header_explicit_ = explicit_start;
  header_has_marker_ = false;
  pending_role_ = explicit_start ? "" : "assistant";
}

// Header grammar (what the template writes and what the model emits):
//   ROLE [to=RECIPIENT] [<|channel|>CHANNEL [to=RECIPIENT] [<|constrain|>TYPE | TYPE]]
void HarmonyStreamParser::open_message(std::vector<HarmonyEvent>& events) {
  HarmonyMessage m;
  m.role = pending_role_.empty() ? "assistant" : pending_role_;
  bool want_role = header_explicit_;
  enum { kNone, kChannel, kConstrain } next = kNone;
  for (const std::string& w : words(tok::to_valid_utf8(header_))) {
    if (w == "<|channel|>") {
      next = kChannel;
      want_role = false;
    } else if (w == "<|constrain|>") {
      next = kConstrain;
    } else if (w.rfind("to=", 0) == 0) {
      m.recipient = w.substr(3);
    } else if (next == kChannel) {
      m.channel = w;
      next = kNone;
    } else if (next == kConstrain || !m.channel.empty()) {
      m.content_type = w;
      next = kNone;
    } else if (want_role) {
      m.role = w;
      want_role = false;
    }
  }
  if (m.channel.empty() && m.role == "assistant") {  // other roles carry no channel
    m.channel = m.recipient.empty() ? "final" : "commentary";
    m.channel_inferred = true;
  }
  messages_.push_back(std::move(m));
  state_ = State::kContent;
  events.push_back({HarmonyEvent::Kind::kMessageStart, messages_.size() - 1, {}});
}

void HarmonyStreamParser::close_message(MessageEnd how, std::vector<HarmonyEvent>& events) {
  HarmonyMessage& m = messages_.back();
  std::string tail = decoder_.flush();
  if (!tail.empty()) {
    m.content += tail;
    events.push_back({HarmonyEvent::Kind::kContentDelta, messages_.size() - 1, std::move(tail)});
  }
  m.end = how;
  events.push_back({HarmonyEvent::Kind::kMessageEnd, messages_.size() - 1, {}});
  state_ = State::kIdle;
}

// Text that never got a <|message|> (no header at all, or a runaway header) is most
// likely the answer itself; keep it rather than lose it.
void HarmonyStreamParser::header_as_content(std::vector<HarmonyEvent>& events) {
  const std::string text = header_raw_;
  header_.clear();
  open_message(events);
  if (!text.empty()) {
    std::string delta = decoder_.push_bytes(text);
    if (!delta.empty()) {
      messages_.back().content += delta;
      events.push_back({HarmonyEvent::Kind::kContentDelta, messages_.size() - 1, std::move(delta)});
    }
  }
}

void HarmonyStreamParser::stop(uint32_t id, MessageEnd how, std::vector<HarmonyEvent>& events) {
  if (state_ == State::kHeader) {
    const bool only_text = !header_explicit_ && !header_has_marker_ && !header_raw_.empty();
    if (only_text) {
      header_as_content(events);
    } else if (header_tokens_ > 0 || header_explicit_) {
      open_message(events);  // a header with no content: keep its metadata
    }
  }
  if (state_ == State::kContent) close_message(how, events);
  stopped_ = true;
  stop_token_ = id;
  state_ = State::kIdle;
}

bool HarmonyStreamParser::push(uint32_t id, std::vector<HarmonyEvent>& events) {
  if (stopped_) return true;
  if (id == ids_.ret || id == ids_.call || id == ids_.eot) {
    stop(id, id == ids_.ret ? MessageEnd::kReturn : id == ids_.call ? MessageEnd::kCall : MessageEnd::kEndOfText, events);
    return true;
  }
  const bool text = tok_.contains(id) && !tok_.is_special(id);
  switch (state_) {
    case State::kIdle:
      if (id == ids_.start) {
        begin_header(true);
      } else if (id == ids_.channel || id == ids_.constrain) {
        begin_header(false);
        header_ += id == ids_.channel ? " <|channel|> " : " <|constrain|> ";
        header_has_marker_ = true;
      } else if (id == ids_.message) {
        begin_header(false);
        open_message(events);
      } else if (text) {
        begin_header(false);
        tok_.append_bytes(id, header_);
        tok_.append_bytes(id, header_raw_);
        ++header_tokens_;
      } else {
        ++ignored_;
      }
      break;
    case State::kHeader:
      if (id == ids_.message) {
        open_message(events);
      } else if (id == ids_.channel || id == ids_.constrain) {
        header_ += id == ids_.channel ? " <|channel|> " : " <|constrain|> ";
        header_has_marker_ = true;
        ++header_tokens_;
      } else if (id == ids_.start) {
        ignored_ += header_tokens_;  // an abandoned header
        begin_header(true);
      } else if (text) {
        tok_.append_bytes(id, header_);
        tok_.append_bytes(id, header_raw_);
        if (++header_tokens_ > options_.max_header_tokens) header_as_content(events);
      } else {
        ++ignored_;  // <|end|> before <|message|>, reserved ids
      }
      break;
    case State::kContent:
      if (id == ids_.end) {
        close_message(MessageEnd::kEnd, events);
      } else if (id == ids_.start) {
        close_message(MessageEnd::kInterrupted, events);
        begin_header(true);
      } else if (id == ids_.channel) {
        const std::string role = messages_.back().role;
        close_message(MessageEnd::kInterrupted, events);
        begin_header(false);
        pending_role_ = role;
        header_ += " <|channel|> ";
        header_has_marker_ = true;
      } else if (text) {
        std::string delta = decoder_.push(id);
        if (!delta.empty()) {
          messages_.back().content += delta;
          events.push_back({HarmonyEvent::Kind::kContentDelta, messages_.size() - 1, std::move(delta)});
        }
      } else {
        ++ignored_;  // <|message|>, <|constrain|>, reserved or undefined ids inside content
      }
      break;
  }
  return false;
}

void HarmonyStreamParser::finish(std::vector<HarmonyEvent>& events) {
  if (stopped_) return;
  if (state_ == State::kHeader) {
    if (!header_explicit_ && !header_has_marker_ && !header_raw_.empty()) {
      header_as_content(events);
    } else if (header_tokens_ > 0 || header_has_marker_ || header_explicit_) {
      open_message(events);  // cut inside the header: keep what it said
    }
  }
  if (state_ == State::kContent) close_message(MessageEnd::kTruncated, events);
  state_ = State::kIdle;
}

}  // namespace gossamer::harmony
