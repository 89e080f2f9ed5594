#include "coordinator/request_builder.h"

#include <algorithm>

#include "core/error.h"
#include "harmony/completion.h"
#include "harmony/render.h"
#include "protocol/encode.h"
#include "protocol/parse.h"

namespace gossamer::coordinator {
namespace {

// The chat-template request for a submit: its messages as they are (one shared type,
// chat/message.h), or the prompt as one user turn.
harmony::ChatRequest chat_request(const protocol::Submit& s) {
  harmony::ChatRequest r;
  if (s.messages) r.messages = *s.messages;
  else {
    chat::Message user;
    user.role = chat::Role::kUser;
    user.content = *s.prompt;
    r.messages.push_back(std::move(user));
  }
  if (!s.params.tools.empty()) {
    r.tools = harmony::Json::array();
    for (const auto& t : s.params.tools) {
      harmony::Json fn = {{"name", t.name}};
      if (!t.description.empty()) fn["description"] = t.description;
      fn["parameters"] = harmony::Json(t.parameters);
      r.tools.push_back({{"type", "function"}, {"function", std::move(fn)}});
    }
  }
  r.reasoning_effort = s.params.reasoning_effort.value_or(chat::ReasoningEffort::kMedium);
  return r;
}

protocol::Error refuse(const protocol::Submit& s, protocol::ErrorCode code, std::string message) {
  protocol::Error e;
  e.code = code;
  e.message = std::move(message);
  e.id = s.id;
  e.about = "submit";
  return e;
}

}  // namespace

protocol::Result<std::unique_ptr<Request>> build_request(const std::string& connection,
                                                         const protocol::Submit& s,
                                                         const Tokenizer& tok,
                                                         const BuildLimits& limits,
                                                         std::mt19937_64& rng) {
  auto r = std::make_unique<Request>();
  r->connection = connection;
  r->id = s.id;
  r->received = Clock::now();
  if (s.tokens) {
    r->tokens = *s.tokens;
  } else {
    try {
      const auto rendered = harmony::render(tok, chat_request(s));
      r->tokens.assign(rendered.ids.begin(), rendered.ids.end());
    } catch (const Error& e) {
      return refuse(s, protocol::ErrorCode::kBadRequest, std::string(s.messages ? "messages" : "prompt") + ": " + e.what());
    }
    const auto worst = std::max_element(r->tokens.begin(), r->tokens.end());
    if (worst != r->tokens.end() && limits.model_vocab > 0 && *worst >= limits.model_vocab)
      return refuse(s, protocol::ErrorCode::kBadRequest,
                    "prompt: the rendered prompt uses token id " + std::to_string(*worst) +
                        " but this model's vocabulary has " + std::to_string(limits.model_vocab) +
                        " ids; send `tokens` to this model");
  }
  for (int32_t id : r->tokens)
    if (!tok.contains(static_cast<uint32_t>(id)))
      return refuse(s, protocol::ErrorCode::kBadRequest,
                    "tokens: id " + std::to_string(id) + " is not defined by the tokenizer");
  r->prompt_tokens = static_cast<int64_t>(r->tokens.size());
  if (auto e = protocol::check_prompt_length(s, r->prompt_tokens, limits.limits)) return *e;
  if (limits.limits.context_length > 0 && r->prompt_tokens + 1 > limits.limits.context_length)
    return refuse(s, protocol::ErrorCode::kContextLength,
                  "prompt of " + std::to_string(r->prompt_tokens) + " tokens leaves no room in a context of " +
                      std::to_string(limits.limits.context_length));

  const auto& p = s.params;
  r->max_tokens = p.max_tokens.value_or(limits.default_max_tokens);
  r->sampling.temperature = static_cast<float>(p.temperature.value_or(1.0));
  r->sampling.top_p = static_cast<float>(p.top_p.value_or(1.0));
  r->sampling.top_k = static_cast<int32_t>(std::min<int64_t>(p.top_k.value_or(0), INT32_MAX));
  r->sampling.seed = p.seed ? *p.seed : rng();
  r->stream = p.stream;
  try {
    // A raw `tokens` prompt is parsed as harmony only when it holds a harmony header.
    bool harmony = !s.tokens;
    if (s.tokens) {
      const auto start = tok.find_token("<|start|>");
      harmony = start && std::find(r->tokens.begin(), r->tokens.end(), static_cast<int32_t>(*start)) != r->tokens.end();
    }
    r->output = std::make_unique<OutputStream>(tok, p.stop, harmony);
  } catch (const Error& e) {
    return refuse(s, protocol::ErrorCode::kInternal, std::string("tokenizer: ") + e.what());
  }
  return r;
}

}  // namespace gossamer::coordinator
