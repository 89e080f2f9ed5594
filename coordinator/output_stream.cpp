#include "coordinator/output_stream.h"

#include <algorithm>

#include "harmony/completion.h"

namespace gossamer::coordinator {
namespace {

protocol::Channel channel_of(const std::string& name) {
  if (name == "analysis") return protocol::Channel::kAnalysis;
  if (name == "commentary") return protocol::Channel::kCommentary;
  return protocol::Channel::kFinal;
}

// Largest n <= want such that s[0, n) ends on a UTF-8 character boundary.
size_t utf8_floor(const std::string& s, size_t want) {
  size_t n = std::min(want, s.size());
  while (n > 0 && n < s.size() && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  return n;
}

}  // namespace

OutputStream::OutputStream(const Tokenizer& tok, std::vector<std::string> stop_strings, bool harmony)
    : parser_(tok), harmony_(harmony), tok_(tok), plain_(tok), stop_ids_(harmony::stop_token_ids(tok)), stop_(std::move(stop_strings)) {
  for (const auto& s : stop_) max_stop_ = std::max(max_stop_, s.size());
  call_id_ = tok.special_id("<|call|>");
}

void OutputStream::emit(protocol::Channel ch, std::string text, std::vector<OutputPiece>& pieces,
                        std::optional<protocol::ToolCallDelta> tool) {
  if (text.empty() && ids_.empty() && !tool) return;
  OutputPiece p;
  p.channel = ch;
  p.text = std::move(text);
  p.token_ids = std::move(ids_);
  ids_.clear();
  p.tool_call = std::move(tool);
  if (!p.tool_call) {
    auto& dst = ch == protocol::Channel::kAnalysis     ? output_.analysis
                : ch == protocol::Channel::kCommentary ? output_.commentary
                                                       : output_.final;
    dst += p.text;
  }
  pieces.push_back(std::move(p));
}

void OutputStream::release_held(bool all, std::vector<OutputPiece>& pieces) {
  const size_t keep = all ? 0 : (max_stop_ > 0 ? max_stop_ - 1 : 0);
  const size_t n = held_.size() > keep ? utf8_floor(held_, held_.size() - keep) : 0;
  if (n == 0) return;
  std::string out = held_.substr(0, n);
  held_.erase(0, n);
  emit(held_channel_, std::move(out), pieces);
}

void OutputStream::on_content(const harmony::HarmonyMessage& m, size_t message,
                              const std::string& delta, std::vector<OutputPiece>& pieces) {
  const protocol::Channel ch = channel_of(m.channel);
  if (!m.recipient.empty()) {  // a tool call: its arguments stream as tool_call pieces
    release_held(true, pieces);
    auto it = std::find_if(calls_.begin(), calls_.end(), [&](auto& c) { return c.first == message; });
    protocol::ToolCallDelta tc;
    if (it == calls_.end()) {
      calls_.push_back({message, static_cast<int64_t>(calls_.size())});
      const size_t dot = m.recipient.find('.');
      tc.name = dot == std::string::npos ? m.recipient : m.recipient.substr(dot + 1);
      output_.tool_calls.push_back({*tc.name, ""});
      it = std::prev(calls_.end());
    }
    tc.index = it->second;
    tc.arguments_delta = delta;
    output_.tool_calls[static_cast<size_t>(it->second)].arguments += delta;
    emit(ch, "", pieces, std::move(tc));
    return;
  }
  if (ch != held_channel_) {
    release_held(true, pieces);
    held_channel_ = ch;
  }
  held_ += delta;
  for (const auto& s : stop_) {
    const size_t at = held_.find(s);
    if (at == std::string::npos) continue;
    held_.resize(at);
    release_held(true, pieces);
    stopped_by_string_ = true;
    return;
  }
  release_held(false, pieces);
}

std::optional<protocol::FinishReason> OutputStream::push(int32_t id, std::vector<OutputPiece>& pieces) {
  ids_.push_back(id);
  if (!harmony_) {
    const bool stop = std::find(stop_ids_.begin(), stop_ids_.end(), static_cast<uint32_t>(id)) != stop_ids_.end();
    // An id the tokenizer does not define (the model's vocabulary has reserved rows) shows
    // no text, as in the harmony parser; it still reaches the client in token_ids.
    if (!stop && tok_.contains(static_cast<uint32_t>(id))) {
      harmony::HarmonyMessage plain;
      plain.channel = "final";
      const std::string text = plain_.push(static_cast<uint32_t>(id));
      if (!text.empty()) on_content(plain, 0, text, pieces);
    }
    if (stopped_by_string_) {
      emit(held_channel_, "", pieces);
      return protocol::FinishReason::kStop;
    }
    if (stop) {
      finish(pieces);
      return static_cast<uint32_t>(id) == call_id_ ? protocol::FinishReason::kToolCall : protocol::FinishReason::kStop;
    }
    release_held(false, pieces);
    if (!ids_.empty()) emit(held_channel_, "", pieces);  // every id reaches the client promptly
    return std::nullopt;
  }
  std::vector<harmony::HarmonyEvent> events;
  const bool stopped = parser_.push(static_cast<uint32_t>(id), events);
  for (const auto& e : events) {
    if (e.kind != harmony::HarmonyEvent::Kind::kContentDelta || stopped_by_string_) continue;
    on_content(parser_.messages()[e.message], e.message, e.delta, pieces);
  }
  if (stopped_by_string_) {
    emit(held_channel_, "", pieces);  // the ids of the stopping token
    return protocol::FinishReason::kStop;
  }
  if (stopped) {
    finish(pieces);
    return parser_.stop_token() == call_id_ ? protocol::FinishReason::kToolCall
                                            : protocol::FinishReason::kStop;
  }
  return std::nullopt;
}

void OutputStream::finish(std::vector<OutputPiece>& pieces) {
  if (harmony_) {
    std::vector<harmony::HarmonyEvent> events;
    parser_.finish(events);
    for (const auto& e : events)
      if (e.kind == harmony::HarmonyEvent::Kind::kContentDelta && !stopped_by_string_)
        on_content(parser_.messages()[e.message], e.message, e.delta, pieces);
  } else if (!stopped_by_string_) {
    harmony::HarmonyMessage plain;
    plain.channel = "final";
    const std::string rest = plain_.flush();
    if (!rest.empty()) on_content(plain, 0, rest, pieces);
  }
  release_held(true, pieces);
  emit(held_channel_, "", pieces);  // ids that produced no text
}

}  // namespace gossamer::coordinator
