// POST /v1/chat/completions and /v1/completions: translate, submit upstream, answer with
// one JSON object or a Server-Sent-Events stream. A client that goes away mid-stream gets
// its request cancelled upstream, so the cluster frees its sequence and KV blocks.
#include <chrono>
#include <deque>

#include "core/error.h"
#include "gateway/gateway_impl.h"
#include "gateway/openai_response.h"

namespace gossamer::gateway {
namespace {

using Clock = std::chrono::steady_clock;
using json = nlohmann::json;
using namespace std::chrono_literals;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string sse(const json& j) {
  return "data: " + j.dump(-1, ' ', false, json::error_handler_t::replace) + "\n\n";
}

Outcome outcome_of(const ApiError& e) {
  if (e.status == 429) return Outcome::kRateLimited;
  return e.status >= 500 ? Outcome::kServerError : Outcome::kClientError;
}

ApiError upstream_silent(const Gateway::Impl& g) {
  return {503, "the cluster at " + g.upstream.endpoint() + " did not answer within " +
                   std::to_string(g.options.idle_timeout.count()) + " ms",
          "service_unavailable", std::nullopt, std::string("upstream_timeout"), 5};
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The state of one streamed response, shared by the content provider (called again and
// again on the HTTP thread) and the releaser (called once when the response is gone).
struct Stream {
  Gateway::Impl& g;
  std::string id;
  std::shared_ptr<UpstreamCall> channel;
  ChunkMapper mapper;
  std::deque<protocol::ServerMessage> pending;  // read before the response started
  Clock::time_point received, last_delta;
  bool first_delta = true;
  bool finished = false;  // the terminal reply was read (or the stream failed upstream)
  Clock::time_point last_write = Clock::now();

  Stream(Gateway::Impl& gw, std::string request_id, std::shared_ptr<UpstreamCall> ch, ChunkMapper m,
         Clock::time_point t0)
      : g(gw), id(std::move(request_id)), channel(std::move(ch)), mapper(std::move(m)), received(t0) {}

  std::optional<protocol::ServerMessage> next(std::chrono::milliseconds wait) {
    if (!pending.empty()) {
      protocol::ServerMessage m = std::move(pending.front());
      pending.pop_front();
      return m;
    }
    return channel->pop(wait);
  }

  bool write(httplib::DataSink& sink, const std::string& bytes) {
    last_write = Clock::now();
    return sink.write(bytes.data(), bytes.size());
  }

  // One step of the provider: false ends the response (client gone).
  bool step(httplib::DataSink& sink) {
    // Short waits, so a client that left is noticed by the keep-alive write below.
    std::optional<protocol::ServerMessage> m = next(250ms);
    if (!m) {
      if (Clock::now() - last_delta > g.options.idle_timeout && !first_delta) return fail(sink, upstream_silent(g));
      if (first_delta && Clock::now() - received > g.options.idle_timeout) return fail(sink, upstream_silent(g));
      if (Clock::now() - last_write > 1s) return write(sink, ": keep-alive\n\n");
      return true;
    }
    if (auto* d = std::get_if<protocol::Delta>(&*m)) {
      const auto now = Clock::now();
      if (first_delta) g.metrics.ttft.observe(std::chrono::duration<double>(now - received).count());
      else g.metrics.inter_token.observe(std::chrono::duration<double>(now - last_delta).count());
      first_delta = false;
      last_delta = now;
      std::string out;
      for (const json& c : mapper.on_delta(*d)) out += sse(c);
      return out.empty() || write(sink, out);
    }
    if (auto* done = std::get_if<protocol::Done>(&*m)) {
      finished = true;
      g.metrics.completed(*done);
      g.metrics.e2e.observe(seconds_since(received));
      g.metrics.finished(Outcome::kSuccess);
      std::string out;
      for (const json& c : mapper.on_done(*done)) out += sse(c);
      out += "data: [DONE]\n\n";
      const bool ok = write(sink, out);
      sink.done();
      return ok;
    }
    if (auto* e = std::get_if<protocol::ErrorReply>(&*m)) return fail(sink, from_upstream(e->code, e->message));
    return true;  // accepted: nothing to tell the client
  }

  // The status line went out already: the error travels as an SSE event, then [DONE].
  bool fail(httplib::DataSink& sink, const ApiError& e) {
    if (!finished) g.upstream.cancel(id);
    finished = true;
    g.metrics.finished(outcome_of(e));
    const bool ok = write(sink, sse(e.to_json()) + "data: [DONE]\n\n");
    sink.done();
    return ok;
  }
};

}  // namespace

void handle_inference(Gateway::Impl& g, const httplib::Request& req, httplib::Response& res, bool chat) {
  const auto received = Clock::now();
  g.metrics.started();
  bool ended_here = true;  // a stream ends in its releaser instead
  auto refuse = [&](const ApiError& e) {
    g.metrics.finished(outcome_of(e));
    send_error(res, e);
  };
  try {
    json body;
    try {
      body = json::parse(req.body);
    } catch (const json::parse_error& e) {
      throw bad_request(std::string("the body is not valid JSON: ") + e.what(), std::nullopt, "invalid_json");
    }
    UpstreamRequest r = chat ? chat_completion_request(body) : completion_request(body, g.options.tokenize);
    const std::optional<std::string> served = g.model_name();
    if (!served) throw upstream_silent(g);
    if (!r.model.empty() && r.model != *served)
      throw ApiError{404, "the model '" + r.model + "' does not exist; this server serves '" + *served + "'",
                     "invalid_request_error", std::string("model"), std::string("model_not_found"), 0};
    const std::string id = g.upstream.new_id();
    const std::string frame = finish_submit(r, id);
    auto channel = g.upstream.submit(id, frame);
    ResponseIdentity who{chat, (chat ? "chatcmpl-" : "cmpl-") + id, id, *served, unix_now()};

    // The first reply decides the status line: a refusal is an HTTP error, not a stream.
    std::optional<protocol::ServerMessage> first = channel->pop(g.options.idle_timeout);
    if (!first) {
      g.upstream.cancel(id);
      throw upstream_silent(g);
    }
    if (auto* e = std::get_if<protocol::ErrorReply>(&*first)) throw from_upstream(e->code, e->message);

    if (!r.stream) {
      std::optional<protocol::ServerMessage> m = std::move(first);
      while (m && !protocol::is_terminal(*m)) m = channel->pop(g.options.idle_timeout);
      if (!m) {
        g.upstream.cancel(id);
        throw upstream_silent(g);
      }
      if (auto* e = std::get_if<protocol::ErrorReply>(&*m)) throw from_upstream(e->code, e->message);
      const auto& done = std::get<protocol::Done>(*m);
      g.metrics.completed(done);
      g.metrics.ttft.observe(done.timings.ttft_ms / 1000.0);
      g.metrics.e2e.observe(seconds_since(received));
      g.metrics.finished(Outcome::kSuccess);
      res.set_content(whole_response(who, done).dump(-1, ' ', false, json::error_handler_t::replace),
                      "application/json");
    } else {
      auto stream = std::make_shared<Stream>(g, id, channel, ChunkMapper(who, r.include_usage), received);
      stream->pending.push_back(std::move(*first));
      res.set_header("Cache-Control", "no-cache");
      res.set_header("X-Accel-Buffering", "no");
      ended_here = false;
      res.set_chunked_content_provider(
          "text/event-stream",
          [stream](size_t, httplib::DataSink& sink) { return stream->step(sink); },
          [stream](bool) {
            if (!stream->finished) {  // the client left before the end: free the sequence
              stream->g.upstream.cancel(stream->id);
              stream->g.metrics.finished(Outcome::kCancelled);
            }
            stream->g.metrics.ended();
          });
    }
  } catch (const ApiError& e) {
    refuse(e);
  } catch (const Error& e) {  // the connection to the front door failed (send timed out)
    refuse({503, std::string("cannot reach the cluster: ") + e.what(), "service_unavailable", std::nullopt,
            std::string("upstream_unavailable"), 5});
  }
  if (ended_here) g.metrics.ended();
}

}  // namespace gossamer::gateway
