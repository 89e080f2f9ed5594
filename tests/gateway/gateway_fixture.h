#pragma once
// An in-process gateway (gateway/) on a free loopback port in front of a given front door,
// and the HTTP calls the tests make to it (cpp-httplib's client).
#include <httplib.h>

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "gateway/gateway.h"

namespace gossamer::testing {

using json = nlohmann::json;

struct HttpGateway {
  explicit HttpGateway(gateway::GatewayOptions o) : gw(prepare(std::move(o))) {
    gw.start();
    http = std::make_unique<httplib::Client>("127.0.0.1", gw.port());
    http->set_read_timeout(30, 0);
  }
  static gateway::GatewayOptions prepare(gateway::GatewayOptions o) {
    o.listen = "127.0.0.1:0";
    return o;
  }
  httplib::Result post(const std::string& path, const json& body, const httplib::Headers& headers = {}) {
    return http->Post(path.c_str(), headers, body.dump(), "application/json");
  }

  gateway::Gateway gw;
  std::unique_ptr<httplib::Client> http;
};

// The `data:` payloads of an SSE body, in order ("[DONE]" included as a string).
inline std::vector<std::string> sse_events(const std::string& body) {
  std::vector<std::string> events;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t end = body.find("\n\n", pos);
    if (end == std::string::npos) end = body.size();
    const std::string event = body.substr(pos, end - pos);
    if (event.rfind("data: ", 0) == 0) events.push_back(event.substr(6));
    pos = end + 2;
  }
  return events;
}

// Every SSE event of a well-formed OpenAI stream is JSON, except the last, "[DONE]".
inline std::vector<json> sse_chunks(const std::string& body, bool* well_formed) {
  const auto events = sse_events(body);
  *well_formed = !events.empty() && events.back() == "[DONE]";
  std::vector<json> chunks;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    try {
      chunks.push_back(json::parse(events[i]));
    } catch (const json::parse_error&) {
      *well_formed = false;
    }
  }
  return chunks;
}

}  // namespace gossamer::testing

namespace gossamer::testing {

// POSTs `body` and hands the response body to `on_data` as it arrives; `on_data` returning
// false hangs up (a client that leaves mid-stream). False when the exchange did not complete.
inline bool post_streaming(httplib::Client& http, const std::string& path, const json& body,
                           std::function<bool(const char*, size_t)> on_data) {
  httplib::Request req;
  req.method = "POST";
  req.path = path;
  req.headers = {{"Content-Type", "application/json"}};
  req.body = body.dump();
  req.content_receiver = [on_data](const char* data, size_t n, uint64_t, uint64_t) { return on_data(data, n); };
  httplib::Response res;
  httplib::Error error = httplib::Error::Success;
  return http.send(req, res, error);
}

}  // namespace gossamer::testing
