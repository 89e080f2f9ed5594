#include "gateway/openai_response.h"

#include <algorithm>

namespace gossamer::gateway {

using json = nlohmann::json;
using protocol::Channel;

const char* openai_finish_reason(protocol::FinishReason f) {
  switch (f) {
    case protocol::FinishReason::kLength:
    case protocol::FinishReason::kContext:
      return "length";
    case protocol::FinishReason::kToolCall:
      return "tool_calls";
    case protocol::FinishReason::kStop:
    case protocol::FinishReason::kCancelled:
      break;
  }
  return "stop";
}

json openai_usage(const protocol::Usage& u) {
  return {{"prompt_tokens", u.prompt_tokens},
          {"completion_tokens", u.completion_tokens},
          {"total_tokens", u.prompt_tokens + u.completion_tokens},
          {"prompt_tokens_details", {{"cached_tokens", u.cached_tokens.value_or(0)}}}};
}

std::string tool_call_id(const std::string& upstream_id, int64_t index) {
  std::string safe = upstream_id;
  std::replace_if(safe.begin(), safe.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
  return "call_" + safe + "_" + std::to_string(index);
}

namespace {

json text_or_null(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json envelope(const ResponseIdentity& who, const char* object) {
  return {{"id", who.id}, {"object", object}, {"created", who.created}, {"model", who.model}};
}

}  // namespace

json whole_response(const ResponseIdentity& who, const protocol::Done& done) {
  const protocol::Output out = done.output.value_or(protocol::Output{});
  if (!who.chat) {
    json r = envelope(who, "text_completion");
    r["choices"] = json::array({{{"index", 0},
                                 {"text", out.analysis + out.commentary + out.final},
                                 {"logprobs", nullptr},
                                 {"finish_reason", openai_finish_reason(done.finish_reason)}}});
    r["usage"] = openai_usage(done.usage);
    return r;
  }
  // Commentary without a recipient is a preamble the model shows the user before calling
  // tools: it is part of the visible answer, ahead of the final channel.
  json message = {{"role", "assistant"},
                  {"content", text_or_null(out.commentary + out.final)},
                  {"reasoning_content", text_or_null(out.analysis)},
                  {"reasoning", text_or_null(out.analysis)}};
  if (!out.tool_calls.empty()) {
    json calls = json::array();
    for (size_t i = 0; i < out.tool_calls.size(); ++i)
      calls.push_back({{"id", tool_call_id(who.upstream_id, static_cast<int64_t>(i))},
                       {"type", "function"},
                       {"function", {{"name", out.tool_calls[i].name}, {"arguments", out.tool_calls[i].arguments}}}});
    message["tool_calls"] = calls;
  }
  json r = envelope(who, "chat.completion");
  r["choices"] = json::array({{{"index", 0},
                               {"message", message},
                               {"logprobs", nullptr},
                               {"finish_reason", openai_finish_reason(done.finish_reason)}}});
  r["usage"] = openai_usage(done.usage);
  return r;
}

json ChunkMapper::chunk(json choice_delta, const json& finish) const {
  json c = envelope(who_, who_.chat ? "chat.completion.chunk" : "text_completion");
  json choice = {{"index", 0}};
  if (who_.chat) choice["delta"] = std::move(choice_delta);
  else choice["text"] = choice_delta.value("content", "");
  choice["logprobs"] = nullptr;
  choice["finish_reason"] = finish;
  c["choices"] = json::array({choice});
  if (include_usage_) c["usage"] = nullptr;  // OpenAI: null on every chunk but the last
  return c;
}

std::vector<json> ChunkMapper::on_delta(const protocol::Delta& d) {
  std::vector<json> out;
  if (who_.chat && !announced_) {
    announced_ = true;
    out.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
  }
  json delta = json::object();
  if (d.tool_call) {
    if (!who_.chat) return out;  // raw completions have no tools
    const protocol::ToolCallDelta& tc = *d.tool_call;
    json call = {{"index", tc.index}, {"function", {{"arguments", tc.arguments_delta}}}};
    if (std::find(named_calls_.begin(), named_calls_.end(), tc.index) == named_calls_.end()) {
      named_calls_.push_back(tc.index);
      call["id"] = tool_call_id(who_.upstream_id, tc.index);
      call["type"] = "function";
      call["function"]["name"] = tc.name.value_or("");
    }
    delta["tool_calls"] = json::array({call});
  } else if (d.text.empty()) {
    return out;  // tokens that show no text (held back or special): nothing to say yet
  } else if (d.channel == Channel::kAnalysis && who_.chat) {
    delta["reasoning_content"] = d.text;
    delta["reasoning"] = d.text;
  } else {
    delta["content"] = d.text;
  }
  out.push_back(chunk(std::move(delta), nullptr));
  return out;
}

std::vector<json> ChunkMapper::on_done(const protocol::Done& d) {
  std::vector<json> out;
  if (who_.chat && !announced_) {
    announced_ = true;
    out.push_back(chunk({{"role", "assistant"}, {"content", ""}}, nullptr));
  }
  out.push_back(chunk(json::object(), openai_finish_reason(d.finish_reason)));
  if (include_usage_) {
    json u = envelope(who_, who_.chat ? "chat.completion.chunk" : "text_completion");
    u["choices"] = json::array();
    u["usage"] = openai_usage(d.usage);
    out.push_back(u);
  }
  return out;
}

}  // namespace gossamer::gateway
