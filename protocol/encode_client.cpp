#include "protocol/encode.h"
#include "protocol/limits.h"

namespace gossamer::protocol {
namespace {

using json = nlohmann::json;

json client_envelope(const char* type) { return json{{"v", kProtocolVersion}, {"type", type}}; }

json tool_call_to_json(const ToolCall& c) {
  json j{{"type", "function"}, {"function", {{"name", c.name}, {"arguments", json(c.arguments)}}}};
  if (!c.id.empty()) j["id"] = c.id;
  return j;
}

json tool_to_json(const Tool& t) {
  json fn{{"name", t.name}, {"parameters", t.parameters}};
  if (!t.description.empty()) fn["description"] = t.description;
  return json{{"type", "function"}, {"function", std::move(fn)}};
}

struct ClientEncoder {
  json operator()(const Submit& s) const {
    json j = client_envelope("submit");
    j["id"] = s.id;
    if (s.messages) {
      json arr = json::array();
      for (const ChatMessage& m : *s.messages) arr.push_back(chat_message_to_json(m));
      j["messages"] = std::move(arr);
    }
    if (s.prompt) j["prompt"] = *s.prompt;
    if (s.tokens) j["tokens"] = *s.tokens;
    j["params"] = params_to_json(s.params);
    return j;
  }
  json operator()(const Cancel& c) const {
    json j = client_envelope("cancel");
    j["id"] = c.id;
    return j;
  }
  json operator()(const HealthRequest& h) const {
    json j = client_envelope("health");
    if (h.id) j["id"] = *h.id;
    return j;
  }
  json operator()(const StatsRequest& s) const {
    json j = client_envelope("stats");
    if (s.id) j["id"] = *s.id;
    return j;
  }
};

}  // namespace

json chat_message_to_json(const ChatMessage& m) {
  json j{{"role", role_string(m.role)}};
  if (!m.content.is_null()) j["content"] = json(m.content);
  if (m.thinking) j["thinking"] = *m.thinking;
  if (!m.tool_calls.empty()) {
    json arr = json::array();
    for (const ToolCall& c : m.tool_calls) arr.push_back(tool_call_to_json(c));
    j["tool_calls"] = std::move(arr);
  }
  if (m.tool_call_id) j["tool_call_id"] = *m.tool_call_id;
  if (m.name) j["name"] = *m.name;
  return j;
}

json params_to_json(const Params& p) {
  json j = json::object();
  if (p.max_tokens) j["max_tokens"] = *p.max_tokens;
  if (p.temperature) j["temperature"] = *p.temperature;
  if (p.top_p) j["top_p"] = *p.top_p;
  if (p.top_k) j["top_k"] = *p.top_k;
  if (p.seed) j["seed"] = *p.seed;
  if (!p.stop.empty()) j["stop"] = p.stop;
  if (p.reasoning_effort) j["reasoning_effort"] = reasoning_effort_string(*p.reasoning_effort);
  if (!p.tools.empty()) {
    json arr = json::array();
    for (const Tool& t : p.tools) arr.push_back(tool_to_json(t));
    j["tools"] = std::move(arr);
  }
  j["stream"] = p.stream;
  return j;
}

json to_json(const ClientMessage& m) { return std::visit(ClientEncoder{}, m); }

std::string encode(const ClientMessage& m) {
  return to_json(m).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace gossamer::protocol
