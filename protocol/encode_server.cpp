#include "protocol/encode.h"
#include "protocol/limits.h"

namespace gossamer::protocol {
namespace {

using json = nlohmann::json;

json server_envelope(const char* type) { return json{{"v", kProtocolVersion}, {"type", type}}; }

struct ServerEncoder {
  json operator()(const Accepted& a) const {
    json j = server_envelope("accepted");
    j["id"] = a.id;
    if (a.queue_position) j["queue_position"] = *a.queue_position;
    return j;
  }
  json operator()(const Delta& d) const {
    json j = server_envelope("delta");
    j["id"] = d.id;
    j["seq"] = d.seq;
    j["channel"] = channel_string(d.channel);
    j["text"] = d.text;
    j["token_ids"] = d.token_ids;
    if (d.tool_call) {
      json tc{{"index", d.tool_call->index}, {"arguments_delta", d.tool_call->arguments_delta}};
      if (d.tool_call->name) tc["name"] = *d.tool_call->name;
      j["tool_call"] = std::move(tc);
    }
    return j;
  }
  json operator()(const Done& d) const {
    json j = server_envelope("done");
    j["id"] = d.id;
    j["finish_reason"] = finish_reason_string(d.finish_reason);
    json usage{{"prompt_tokens", d.usage.prompt_tokens},
               {"completion_tokens", d.usage.completion_tokens}};
    if (d.usage.cached_tokens) usage["cached_tokens"] = *d.usage.cached_tokens;
    j["usage"] = std::move(usage);
    j["timings"] = {{"queue_ms", d.timings.queue_ms},
                    {"ttft_ms", d.timings.ttft_ms},
                    {"total_ms", d.timings.total_ms}};
    if (d.output) j["output"] = output_to_json(*d.output);
    return j;
  }
  json operator()(const ErrorReply& e) const {
    json j = server_envelope("error");
    if (e.id) j["id"] = *e.id;
    if (e.ref) j["ref"] = *e.ref;
    j["code"] = error_code_string(e.code);
    j["message"] = e.message;
    return j;
  }
  json operator()(const HealthReply& h) const {
    json j = server_envelope("health");
    if (h.id) j["id"] = *h.id;
    j["status"] = h.status;
    j["world_size"] = h.world_size;
    j["uptime_s"] = h.uptime_s;
    j["model"] = h.model;
    return j;
  }
  json operator()(const StatsReply& s) const {
    json j = server_envelope("stats");
    if (s.id) j["id"] = *s.id;
    j["queued"] = s.queued;
    j["running"] = s.running;
    j["completed"] = s.completed;
    j["rejected"] = s.rejected;
    j["kv_blocks_total"] = s.kv_blocks_total;
    j["kv_blocks_used"] = s.kv_blocks_used;
    j["extra"] = s.extra.is_object() ? s.extra : json::object();
    return j;
  }
};

}  // namespace

json output_to_json(const Output& o) {
  json calls = json::array();
  for (const FinishedToolCall& c : o.tool_calls)
    calls.push_back({{"name", c.name}, {"arguments", c.arguments}});
  return json{{"analysis", o.analysis},
              {"commentary", o.commentary},
              {"final", o.final},
              {"tool_calls", std::move(calls)}};
}

json to_json(const ServerMessage& m) { return std::visit(ServerEncoder{}, m); }

std::string encode(const ServerMessage& m) {
  return to_json(m).dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace gossamer::protocol
