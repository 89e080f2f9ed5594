// Client-side reading of server frames. Unknown fields are ignored (a v1 server may add
// fields); known fields must have the right type.
#include "protocol/json_fields.h"
#include "protocol/parse.h"
#include "protocol/utf8.h"

namespace gossamer::protocol {
namespace {

using detail::as_int;
using detail::as_string;
using detail::bad;
using detail::fail;
using detail::find;
using detail::json_error_text;
using detail::require;
using json = nlohmann::json;

std::optional<std::string> opt_string(const json& j, const char* key) {
  const json* v = find(j, key);
  return v ? std::optional<std::string>(as_string(*v, key)) : std::nullopt;
}

double number_or_zero(const json& j, const char* key, const std::string& path) {
  const json* v = find(j, key);
  return v ? detail::as_finite_number(*v, detail::field_path(path, key)) : 0.0;
}

Channel parse_channel(const json& v) {
  const std::string s = as_string(v, "channel");
  if (s == "analysis") return Channel::kAnalysis;
  if (s == "commentary") return Channel::kCommentary;
  if (s == "final") return Channel::kFinal;
  bad("channel", "unknown channel '" + s + "'");
}

FinishReason parse_finish(const json& v) {
  const std::string s = as_string(v, "finish_reason");
  for (FinishReason f : {FinishReason::kStop, FinishReason::kLength, FinishReason::kCancelled,
                         FinishReason::kToolCall, FinishReason::kContext})
    if (s == finish_reason_string(f)) return f;
  bad("finish_reason", "unknown finish_reason '" + s + "'");
}

Delta parse_delta(const json& j) {
  Delta d;
  d.id = as_string(require(j, "id", ""), "id");
  d.seq = as_int(require(j, "seq", ""), "seq");
  d.channel = parse_channel(require(j, "channel", ""));
  if (const json* t = find(j, "text")) d.text = as_string(*t, "text");
  if (const json* ids = find(j, "token_ids")) {
    detail::as_array(*ids, "token_ids");
    for (size_t i = 0; i < ids->size(); ++i)
      d.token_ids.push_back(static_cast<int32_t>(as_int((*ids)[i], detail::index_path("token_ids", i))));
  }
  if (const json* tc = find(j, "tool_call")) {
    detail::as_object(*tc, "tool_call");
    ToolCallDelta t;
    if (const json* i = find(*tc, "index")) t.index = as_int(*i, "tool_call.index");
    if (const json* n = find(*tc, "name")) t.name = as_string(*n, "tool_call.name");
    if (const json* a = find(*tc, "arguments_delta")) t.arguments_delta = as_string(*a, "tool_call.arguments_delta");
    d.tool_call = std::move(t);
  }
  return d;
}

Output parse_output(const json& o) {
  detail::as_object(o, "output");
  Output out;
  if (auto s = opt_string(o, "analysis")) out.analysis = *s;
  if (auto s = opt_string(o, "commentary")) out.commentary = *s;
  if (auto s = opt_string(o, "final")) out.final = *s;
  if (const json* calls = find(o, "tool_calls")) {
    detail::as_array(*calls, "output.tool_calls");
    for (const json& c : *calls)
      out.tool_calls.push_back({as_string(require(c, "name", "output.tool_calls"), "name"),
                                as_string(require(c, "arguments", "output.tool_calls"), "arguments")});
  }
  return out;
}

Done parse_done(const json& j) {
  Done d;
  d.id = as_string(require(j, "id", ""), "id");
  d.finish_reason = parse_finish(require(j, "finish_reason", ""));
  if (const json* u = find(j, "usage")) {
    d.usage.prompt_tokens = as_int(require(*u, "prompt_tokens", "usage"), "usage.prompt_tokens");
    d.usage.completion_tokens = as_int(require(*u, "completion_tokens", "usage"), "usage.completion_tokens");
    if (const json* c = find(*u, "cached_tokens")) d.usage.cached_tokens = as_int(*c, "usage.cached_tokens");
  }
  if (const json* t = find(j, "timings")) {
    d.timings.queue_ms = number_or_zero(*t, "queue_ms", "timings");
    d.timings.ttft_ms = number_or_zero(*t, "ttft_ms", "timings");
    d.timings.total_ms = number_or_zero(*t, "total_ms", "timings");
  }
  if (const json* o = find(j, "output")) d.output = parse_output(*o);
  return d;
}

ErrorReply parse_error_reply(const json& j) {
  ErrorReply e;
  const std::string code = as_string(require(j, "code", ""), "code");
  // A newer server may invent codes; keep the reply readable as "internal" + its text.
  e.code = error_code_from_string(code).value_or(ErrorCode::kInternal);
  e.message = opt_string(j, "message").value_or("");
  if (!error_code_from_string(code)) e.message = code + ": " + e.message;
  e.id = opt_string(j, "id");
  e.ref = opt_string(j, "ref");
  return e;
}

ServerMessage parse_server_body(const json& j, const std::string& type) {
  if (type == "accepted") {
    Accepted a{as_string(require(j, "id", ""), "id"), std::nullopt};
    if (const json* q = find(j, "queue_position")) a.queue_position = as_int(*q, "queue_position");
    return a;
  }
  if (type == "delta") return parse_delta(j);
  if (type == "done") return parse_done(j);
  if (type == "error") return parse_error_reply(j);
  if (type == "health") {
    HealthReply h;
    h.id = opt_string(j, "id");
    h.status = opt_string(j, "status").value_or("ok");
    if (const json* w = find(j, "world_size")) h.world_size = as_int(*w, "world_size");
    h.uptime_s = number_or_zero(j, "uptime_s", "");
    h.model = opt_string(j, "model").value_or("");
    return h;
  }
  if (type == "stats") {
    StatsReply s;
    s.id = opt_string(j, "id");
    auto count = [&](const char* k) { const json* v = find(j, k); return v ? as_int(*v, k) : 0; };
    s.queued = count("queued");
    s.running = count("running");
    s.completed = count("completed");
    s.rejected = count("rejected");
    s.kv_blocks_total = count("kv_blocks_total");
    s.kv_blocks_used = count("kv_blocks_used");
    if (const json* x = find(j, "extra"); x && x->is_object()) s.extra = *x;
    return s;
  }
  fail(ErrorCode::kUnknownType, "type: unknown server message type '" + type + "'");
}

}  // namespace

Result<ServerMessage> parse_server_message(std::string_view frame, size_t max_frame_bytes) {
  Error err;
  try {
    if (frame.size() > max_frame_bytes)
      fail(ErrorCode::kTooLarge, "server frame of " + std::to_string(frame.size()) + " bytes");
    if (!is_valid_utf8(frame)) fail(ErrorCode::kInvalidUtf8, "server frame is not valid UTF-8");
    json j;
    try {
      j = json::parse(frame);
    } catch (const json::parse_error& e) {
      fail(ErrorCode::kBadJson, json_error_text(e));
    } catch (const json::out_of_range& e) {
      // A number no double can hold (1e999): as parse_client_message, a bad value. Found
      // by fuzz/fuzz_protocol.cpp: it used to come back as `internal`.
      fail(ErrorCode::kBadRequest, "number out of range: " + json_error_text(e));
    }
    if (!j.is_object()) fail(ErrorCode::kBadRequest, "top level: expected a JSON object");
    const json& v = require(j, "v", "");
    if (!v.is_number_integer() || v.get<int64_t>() != kProtocolVersion)
      fail(ErrorCode::kUnsupportedVersion, "server speaks version " + v.dump());
    return parse_server_body(j, as_string(require(j, "type", ""), "type"));
  } catch (const detail::FieldError& e) {
    err.code = e.code;
    err.message = e.message;
  } catch (const std::exception& e) {
    err.code = ErrorCode::kInternal;
    err.message = json_error_text(e);
  }
  return err;
}

}  // namespace gossamer::protocol
