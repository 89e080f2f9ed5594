#include "gateway/openai_request.h"

#include <set>

#include "gateway/api_error.h"
#include "protocol/parse.h"

namespace gossamer::gateway {
namespace {

using json = nlohmann::json;

// A present, non-null field (OpenAI clients send null for "not given").
const json* field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return nullptr;
  return &*it;
}

void require_object(const json& body) {
  if (!body.is_object()) throw bad_request("the request body must be a JSON object");
}

// Fields whose only supported value is OpenAI's default: that value passes, any other is a 400.
void require_default(const json& body, const char* name, const json& allowed, const std::string& why) {
  const json* v = field(body, name);
  if (v && *v != allowed) throw unsupported_field(name, why);
}

void refuse_unknown(const json& body, const std::set<std::string>& known) {
  for (auto it = body.begin(); it != body.end(); ++it)
    if (!known.count(it.key())) throw unsupported_field(it.key(), "unknown or unsupported parameter");
}

// obj[key] when obj is an object holding a string there, else "". (json::value(key, "")
// throws when the key holds another type: a client's {"role": {}} would escape as a 500.)
std::string string_field(const json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// OpenAI content: a string, or an array of {"type": "text", "text"} parts.
json content_text(const json& c, const std::string& path) {
  if (c.is_string() || c.is_null()) return c;
  if (!c.is_array()) throw bad_request(path + ": expected a string or an array of text parts", path);
  std::string text;
  for (size_t i = 0; i < c.size(); ++i) {
    const json& part = c[i];
    const std::string ppath = path + "[" + std::to_string(i) + "]";
    if (!part.is_object() || string_field(part, "type") != "text" || !part.contains("text") || !part["text"].is_string())
      throw unsupported_field(ppath, "only text content parts ({\"type\": \"text\", \"text\": ...}) are supported");
    text += part["text"].get<std::string>();
  }
  return text;
}

// One OpenAI message -> the front door's message shape (the same OpenAI shape, with the
// reasoning of an earlier assistant turn in `thinking`).
json convert_message(const json& m, size_t i) {
  const std::string path = "messages[" + std::to_string(i) + "]";
  if (!m.is_object()) throw bad_request(path + ": expected an object", path);
  json out = json::object();
  for (auto it = m.begin(); it != m.end(); ++it) {
    const std::string& key = it.key();
    const json& v = it.value();
    if (key == "role" || key == "tool_call_id" || key == "name") {
      out[key] = v;
    } else if (key == "content") {
      out["content"] = content_text(v, path + ".content");
    } else if (key == "tool_calls") {
      if (!v.is_null()) out["tool_calls"] = v;
    } else if (key == "reasoning_content" || key == "reasoning") {
      if (!v.is_null()) out["thinking"] = content_text(v, path + "." + key);
    } else if (key == "refusal") {
      if (!v.is_null()) throw unsupported_field(path + ".refusal", "refusal turns are not supported");
    } else {
      throw unsupported_field(path + "." + key, "unknown or unsupported message field");
    }
  }
  // gpt-oss reads a developer message where OpenAI clients send "system" for instructions;
  // both are kept as given and the chat template decides.
  if (out.contains("role") && out["role"] == "assistant" && !out.contains("content")) out["content"] = nullptr;
  return out;
}

// gpt-oss (harmony) calls one tool per assistant message, and a tool result answers the call
// right before it. OpenAI clients send one assistant message with several tool_calls and then
// the results, in any order, matched by tool_call_id. Rewritten here: each call becomes an
// assistant message of its own, followed by its result. `index` maps each output message to
// the request's message it came from, for error paths.
json one_call_per_turn(const json& messages, const std::vector<size_t>& index) {
  json out = json::array();
  for (size_t i = 0; i < messages.size(); ++i) {
    const json& m = messages[i];
    const bool calls = string_field(m, "role") == "assistant" && m.contains("tool_calls") && m["tool_calls"].is_array();
    if (!calls) {
      out.push_back(m);
      continue;
    }
    // The tool results that follow, by the call they answer.
    size_t j = i + 1;
    std::vector<json> results;
    for (; j < messages.size() && string_field(messages[j], "role") == "tool"; ++j) results.push_back(messages[j]);
    std::vector<bool> used(results.size(), false);
    const json& tool_calls = m["tool_calls"];
    for (size_t k = 0; k < tool_calls.size(); ++k) {
      json turn = m;
      turn["tool_calls"] = json::array({tool_calls[k]});
      if (k > 0) turn.erase("thinking"), turn["content"] = nullptr;  // the reasoning goes before the first call
      out.push_back(turn);
      const std::string call_id = string_field(tool_calls[k], "id");
      for (size_t r = 0; r < results.size(); ++r) {
        if (used[r]) continue;
        const std::string answers = string_field(results[r], "tool_call_id");
        // By id when both have one; otherwise in order, as the results came.
        if (!call_id.empty() && !answers.empty() && answers != call_id) continue;
        used[r] = true;
        out.push_back(results[r]);
        break;
      }
    }
    for (size_t r = 0; r < results.size(); ++r) {
      if (used[r]) continue;
      const std::string path = "messages[" + std::to_string(index[i + 1 + r]) + "].tool_call_id";
      throw bad_request(path + ": answers no tool call of the assistant message before it", path);
    }
    i = j - 1;
  }
  return out;
}

void copy_number(const json& body, json& params, const char* name) {
  if (const json* v = field(body, name)) params[name] = *v;
}

// Sampling fields shared by both endpoints.
json common_params(const json& body) {
  json p = json::object();
  const json* max_tokens = field(body, "max_tokens");
  if (const json* mct = field(body, "max_completion_tokens")) max_tokens = mct;
  if (max_tokens) p["max_tokens"] = *max_tokens;
  copy_number(body, p, "temperature");
  copy_number(body, p, "top_p");
  copy_number(body, p, "top_k");
  copy_number(body, p, "seed");
  if (const json* s = field(body, "stop")) p["stop"] = s->is_string() ? json::array({*s}) : *s;
  require_default(body, "n", 1, "only n=1 is supported");
  require_default(body, "presence_penalty", 0, "penalties are not supported");
  require_default(body, "frequency_penalty", 0, "penalties are not supported");
  require_default(body, "logit_bias", json::object(), "logit_bias is not supported");
  return p;
}

void read_stream(const json& body, UpstreamRequest& r) {
  if (const json* s = field(body, "stream")) {
    if (!s->is_boolean()) throw bad_request("stream: expected a boolean", "stream");
    r.stream = s->get<bool>();
  }
  if (const json* so = field(body, "stream_options")) {
    if (!so->is_object()) throw bad_request("stream_options: expected an object", "stream_options");
    if (!r.stream) throw bad_request("stream_options: only allowed when stream is true", "stream_options");
    for (auto it = so->begin(); it != so->end(); ++it) {
      if (it.key() != "include_usage") throw unsupported_field("stream_options." + it.key(), "unknown stream option");
      if (!it.value().is_boolean()) throw bad_request("stream_options.include_usage: expected a boolean", "stream_options.include_usage");
      r.include_usage = it.value().get<bool>();
    }
  }
  if (const json* m = field(body, "model")) {
    if (!m->is_string()) throw bad_request("model: expected a string", "model");
    r.model = m->get<std::string>();
  }
}

}  // namespace

UpstreamRequest chat_completion_request(const json& body) {
  require_object(body);
  refuse_unknown(body, {"model", "messages", "stream", "stream_options", "max_tokens", "max_completion_tokens",
                        "temperature", "top_p", "top_k", "seed", "stop", "reasoning_effort", "tools", "tool_choice",
                        "parallel_tool_calls", "n", "logprobs", "top_logprobs", "presence_penalty",
                        "frequency_penalty", "logit_bias", "user", "response_format"});
  require_default(body, "logprobs", false, "logprobs are not supported");
  if (field(body, "top_logprobs")) throw unsupported_field("top_logprobs", "logprobs are not supported");
  require_default(body, "parallel_tool_calls", true, "the model decides how many tools it calls");
  require_default(body, "response_format", json{{"type", "text"}}, "only {\"type\": \"text\"} is supported");
  UpstreamRequest r;
  read_stream(body, r);
  const json* messages = field(body, "messages");
  if (!messages) throw bad_request("messages: missing required field", "messages");
  if (!messages->is_array()) throw bad_request("messages: expected an array", "messages");
  json converted = json::array();
  std::vector<size_t> index;
  for (size_t i = 0; i < messages->size(); ++i) {
    converted.push_back(convert_message((*messages)[i], i));
    index.push_back(i);
  }
  converted = one_call_per_turn(converted, index);
  json params = common_params(body);
  if (const json* e = field(body, "reasoning_effort")) params["reasoning_effort"] = *e;
  bool tools_allowed = true;
  if (const json* tc = field(body, "tool_choice")) {
    if (*tc == "none") tools_allowed = false;
    else if (*tc != "auto")
      throw unsupported_field("tool_choice", "only \"auto\" and \"none\" are supported");
  }
  // tool_choice "none": the model is not shown the tools, so it cannot call one.
  if (const json* t = field(body, "tools"); t && tools_allowed) params["tools"] = *t;
  params["stream"] = r.stream;
  r.submit = {{"v", 1}, {"type", "submit"}, {"messages", converted}, {"params", params}};
  return r;
}

UpstreamRequest completion_request(const json& body, const Tokenize& tokenize) {
  require_object(body);
  refuse_unknown(body, {"model", "prompt", "stream", "stream_options", "max_tokens", "temperature", "top_p",
                        "top_k", "seed", "stop", "n", "logprobs", "echo", "suffix", "best_of", "presence_penalty",
                        "frequency_penalty", "logit_bias", "user"});
  if (field(body, "logprobs")) throw unsupported_field("logprobs", "logprobs are not supported");
  require_default(body, "echo", false, "echo is not supported");
  if (field(body, "suffix")) throw unsupported_field("suffix", "suffix (insertion) is not supported");
  require_default(body, "best_of", 1, "only best_of=1 is supported");
  UpstreamRequest r;
  read_stream(body, r);
  const json* prompt = field(body, "prompt");
  if (!prompt) throw bad_request("prompt: missing required field", "prompt");
  // One prompt: a string, [string], or token ids ([int]). Batches ([[int]], several strings) are refused.
  json p = *prompt;
  if (p.is_array() && p.size() == 1 && p[0].is_string()) p = p[0];
  json tokens;
  if (p.is_string()) {
    if (!tokenize) throw unsupported_field("prompt", "text prompts need a tokenizer; start the gateway with --tokenizer");
    if (p.get<std::string>().empty()) throw bad_request("prompt: must not be empty", "prompt");
    tokens = tokenize(p.get<std::string>());
  } else if (p.is_array() && !p.empty() && p[0].is_number_integer()) {
    tokens = p;
  } else {
    throw unsupported_field("prompt", "expected one prompt: a string or an array of token ids");
  }
  json params = common_params(body);
  params["stream"] = r.stream;
  r.submit = {{"v", 1}, {"type", "submit"}, {"tokens", tokens}, {"params", params}};
  return r;
}

std::string finish_submit(UpstreamRequest& r, const std::string& id) {
  r.submit["id"] = id;
  std::string frame;
  try {
    frame = r.submit.dump();
  } catch (const json::type_error&) {
    throw bad_request("the request holds text that is not valid UTF-8");
  }
  auto parsed = protocol::parse_client_message(frame);
  if (!parsed.ok()) throw from_upstream(parsed.error().code, parsed.error().message);
  return frame;
}

}  // namespace gossamer::gateway
