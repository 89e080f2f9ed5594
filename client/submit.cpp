#include "client/submit.h"

#include <ostream>

#include "client/stream.h"
#include "core/error.h"
#include "protocol/encode.h"
#include "protocol/parse.h"
#include "protocol/utf8.h"

namespace gossamer::client {
namespace {

using json = nlohmann::json;

json result_json(const StreamResult& r) {
  json j{{"id", r.id}};
  if (r.error) {
    j["error"] = {{"code", protocol::error_code_string(r.error->code)}, {"message", r.error->message}};
    return j;
  }
  const protocol::Done& d = *r.done;
  j["finish_reason"] = protocol::finish_reason_string(d.finish_reason);
  j["output"] = protocol::output_to_json(
      protocol::Output{r.analysis, r.commentary, r.final, r.tool_calls});
  j["usage"] = {{"prompt_tokens", d.usage.prompt_tokens}, {"completion_tokens", d.usage.completion_tokens}};
  j["timings"] = {{"queue_ms", d.timings.queue_ms}, {"ttft_ms", d.timings.ttft_ms},
                  {"total_ms", d.timings.total_ms}, {"client_ttft_ms", r.ttft_ms},
                  {"client_total_ms", r.total_ms}};
  return j;
}

}  // namespace

std::optional<std::string> build_submit(const SubmitOptions& o, protocol::Submit& out) {
  protocol::Submit s;
  s.id = o.id.empty() ? "submit-1" : o.id;  // placeholder id only for validation
  s.params = o.params;
  const int inputs = o.prompt.has_value() + o.messages_json.has_value() + o.tokens.has_value();
  if (inputs != 1) return "give exactly one of a prompt, messages (JSON) or tokens";
  if (o.system && !o.prompt) return "a system prompt goes with a plain prompt";
  if (o.prompt && o.system) {
    s.messages = std::vector<protocol::ChatMessage>{{protocol::Role::kSystem, *o.system, {}, {}, {}, {}},
                                                    {protocol::Role::kUser, *o.prompt, {}, {}, {}, {}}};
  } else if (o.prompt) {
    s.prompt = o.prompt;
  } else if (o.tokens) {
    s.tokens = o.tokens;
  }
  for (const auto* text : {&o.prompt, &o.system, &o.messages_json})
    if (*text && !protocol::is_valid_utf8(**text))
      return "input is not valid UTF-8 (first bad byte at offset " +
             std::to_string(protocol::find_invalid_utf8(**text)) + ")";
  json j = protocol::to_json(protocol::ClientMessage{s});
  if (o.messages_json) {
    try {
      j["messages"] = json::parse(*o.messages_json);
    } catch (const json::exception& e) {
      return std::string("messages: not JSON: ") + e.what();
    }
  }
  // Server-side limits are unknown here; validate shape and types with generous ones.
  protocol::Limits loose;
  loose.max_tokens = INT64_MAX;
  auto parsed = protocol::parse_client_message(j.dump(), loose);
  if (!parsed.ok()) return parsed.error().message;
  out = std::get<protocol::Submit>(parsed.value());
  out.id = o.id;
  return std::nullopt;
}

int run_submit(const SubmitOptions& options, std::ostream& out, std::ostream& err) {
  protocol::Submit request;
  if (auto problem = build_submit(options, request)) {
    err << "submit: " << *problem << "\n";
    return kExitUsage;
  }
  try {
    Client client(options.endpoint);
    const std::string id = client.submit(std::move(request));
    StreamOptions so;
    so.idle_timeout = options.idle_timeout;
    so.total_timeout = options.total_timeout;
    if (!options.json) {
      so.on_delta = [&](const protocol::Delta& d) {
        if (d.channel == protocol::Channel::kFinal) out << d.text << std::flush;
        else if (options.show_thinking) err << d.text << std::flush;
      };
    }
    StreamResult r = collect_stream(client, id, so);
    if (options.json) {
      out << result_json(r).dump(2) << "\n";
    } else {
      // A non-stream request printed nothing yet.
      if (r.deltas == 0) {
        if (options.show_thinking && !r.analysis.empty()) err << r.analysis << "\n";
        out << r.final;
      }
      if (r.done) out << "\n";
      if (r.error)
        err << "error [" << protocol::error_code_string(r.error->code) << "]: " << r.error->message << "\n";
    }
    return r.ok() ? kExitOk : kExitServerError;
  } catch (const Error& e) {
    err << "submit: " << e.what() << "\n";
    return kExitTransport;
  }
}

std::vector<int32_t> parse_token_list(const std::string& text) {
  std::vector<int32_t> tokens;
  size_t pos = 0;
  while (pos <= text.size()) {
    const size_t comma = std::min(text.find(',', pos), text.size());
    const std::string item = text.substr(pos, comma - pos);
    size_t used = 0;
    long long v = -1;
    try {
      v = std::stoll(item, &used);
    } catch (const std::exception&) {
    }
    while (used < item.size() && item[used] == ' ') ++used;
    if (used != item.size() || v < 0 || v > INT32_MAX)
      GOSSAMER_THROW(kInvalidArgument, "tokens: '{}' is not a token id (expected e.g. 1,2,3)", item);
    tokens.push_back(static_cast<int32_t>(v));
    pos = comma + 1;
  }
  return tokens;
}

}  // namespace gossamer::client
