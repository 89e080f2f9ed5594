#include "client/stream.h"

#include <chrono>

#include "core/error.h"

namespace gossamer::client {
namespace {

using Clock = std::chrono::steady_clock;

std::string& channel_text(StreamResult& r, protocol::Channel c) {
  switch (c) {
    case protocol::Channel::kAnalysis: return r.analysis;
    case protocol::Channel::kCommentary: return r.commentary;
    case protocol::Channel::kFinal: return r.final;
  }
  return r.final;
}

void apply_delta(StreamResult& r, const protocol::Delta& d) {
  if (d.seq != static_cast<int64_t>(r.deltas)) r.seq_gap = true;
  ++r.deltas;
  channel_text(r, d.channel) += d.text;
  r.token_ids.insert(r.token_ids.end(), d.token_ids.begin(), d.token_ids.end());
  if (d.tool_call) {
    const auto index = static_cast<size_t>(std::max<int64_t>(0, d.tool_call->index));
    if (r.tool_calls.size() <= index) r.tool_calls.resize(index + 1);
    if (d.tool_call->name) r.tool_calls[index].name = *d.tool_call->name;
    r.tool_calls[index].arguments += d.tool_call->arguments_delta;
  }
}

}  // namespace

const std::string& StreamResult::text(protocol::Channel c) const {
  return channel_text(const_cast<StreamResult&>(*this), c);
}

bool apply_message(StreamResult& r, const protocol::ServerMessage& m) {
  if (const auto* a = std::get_if<protocol::Accepted>(&m)) {
    r.accepted = *a;
  } else if (const auto* d = std::get_if<protocol::Delta>(&m)) {
    apply_delta(r, *d);
  } else if (const auto* done = std::get_if<protocol::Done>(&m)) {
    r.done = *done;
    // A non-stream request gets its whole output here instead of in deltas.
    if (done->output && r.deltas == 0) {
      r.analysis = done->output->analysis;
      r.commentary = done->output->commentary;
      r.final = done->output->final;
      r.tool_calls = done->output->tool_calls;
    }
    return true;
  } else if (const auto* e = std::get_if<protocol::ErrorReply>(&m)) {
    if (e->id) {  // only an error carrying our id ends the request
      r.error = *e;
      return true;
    }
  }
  return false;
}

StreamResult collect_stream(Client& client, const std::string& id, const StreamOptions& options) {
  StreamResult r;
  r.id = id;
  const auto start = Clock::now();
  const auto deadline = start + options.total_timeout;
  auto ms_since_start = [&] {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
  };
  while (true) {
    const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now());
    if (left.count() <= 0)
      GOSSAMER_THROW(kComm, "request '{}' to {}: no terminal reply within the total timeout of {} ms",
                     id, client.endpoint(), options.total_timeout.count());
    std::optional<protocol::ServerMessage> m = client.poll_for(id, std::min(left, options.idle_timeout));
    if (!m) {
      if (Clock::now() >= deadline) continue;  // reported above with the right wording
      GOSSAMER_THROW(kComm, "request '{}' to {}: no reply for {} ms (server down or overloaded?)",
                     id, client.endpoint(), options.idle_timeout.count());
    }
    if (const auto* d = std::get_if<protocol::Delta>(&*m)) {
      if (r.ttft_ms < 0) r.ttft_ms = ms_since_start();
      if (options.on_delta) options.on_delta(*d);
    }
    if (apply_message(r, *m)) {
      r.total_ms = ms_since_start();
      return r;
    }
  }
}

}  // namespace gossamer::client
