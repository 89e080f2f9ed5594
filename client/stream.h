#pragma once
// Follows one request to its terminal reply, gathering the streamed deltas into per-channel
// text. Bounded in time: it returns on the terminal message or throws on timeout.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "client/client.h"

namespace gossamer::client {

struct StreamOptions {
  Millis idle_timeout{60000};    // longest silence between two messages of this request
  Millis total_timeout{600000};  // longest the whole request may take
  std::function<void(const protocol::Delta&)> on_delta;  // called as each delta arrives
};

struct StreamResult {
  std::string id;
  std::string analysis, commentary, final;  // deltas concatenated, or Done.output
  std::vector<int32_t> token_ids;
  std::vector<protocol::FinishedToolCall> tool_calls;  // assembled from tool_call pieces
  std::optional<protocol::Accepted> accepted;
  std::optional<protocol::Done> done;          // exactly one of done / error is set
  std::optional<protocol::ErrorReply> error;
  size_t deltas = 0;
  bool seq_gap = false;   // a delta's seq was not the previous + 1: something was lost
  double ttft_ms = -1;    // client-side: call -> first delta (-1 when none)
  double total_ms = 0;    // client-side: call -> terminal

  bool ok() const { return done.has_value(); }
  const std::string& text(protocol::Channel c) const;
};

// Throws gossamer::Error(kComm) naming the request, the endpoint and the timeout when the
// request stays silent for idle_timeout or runs past total_timeout.
StreamResult collect_stream(Client& client, const std::string& id, const StreamOptions& options = {});

// Applies one message of the request to `r`; true when it was the terminal one. Shared by
// collect_stream and by callers that multiplex many requests (chat, loadgen).
bool apply_message(StreamResult& r, const protocol::ServerMessage& m);

}  // namespace gossamer::client
