#pragma once
// The library side of `gossamer loadgen`: N requests kept C at a time in flight, spread
// over K connections (by default one per in-flight slot, as C separate users would be),
// with seeded prompt/output lengths. It measures what users feel (TTFT,
// inter-token latency, end-to-end) and accounts for every reply: each id must get exactly
// one terminal reply; lost, duplicated and stray replies are counted, never ignored.
#include <iosfwd>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "client/latency_summary.h"
#include "client/length_dist.h"

namespace gossamer::client {

struct LoadgenOptions {
  std::string endpoint = "tcp://127.0.0.1:5555";
  int requests = 100;
  int concurrency = 8;
  int connections = 0;  // DEALER connections the requests are spread over; 0 = concurrency
  LengthDist prompt_len = LengthDist::parse("fixed:32");  // words (or token ids)
  LengthDist output_len = LengthDist::parse("fixed:64");  // params.max_tokens
  uint64_t seed = 0;
  double temperature = 0;   // greedy by default: repeatable output lengths
  int64_t token_prompts_vocab = 0;  // > 0: send `tokens` drawn from [0, vocab) instead of text
  Millis request_timeout{60000};  // silence on one request this long: it is counted lost
  Millis max_duration{0};         // > 0: stop sending after this; unsent ones are reported
  Millis drain{200};              // after the last terminal, listen this long for duplicates
  std::string json_path;  // empty: no JSON file
  std::string plot_path;  // empty: no PNG
};

struct RequestRecord {
  std::string id;
  int64_t prompt_len = 0, max_tokens = 0;
  double sent_s = -1, first_token_s = -1, end_s = -1, last_activity_s = -1;
  int64_t output_tokens = 0;
  std::vector<double> itl_ms;  // per token, from gaps between consecutive deltas
  int terminals = 0;
  int64_t next_seq = 0;
  std::string status = "not_sent";  // ok | error:<code> | lost | not_sent
  std::string finish_reason;
  int connection = -1;  // index of the connection it was sent on
};

struct Accounting {
  long sent = 0, ok = 0, lost = 0, not_sent = 0;
  std::map<std::string, long> errors;  // by code
  std::string first_error;             // "code: message" of the first error reply
  long duplicated = 0;      // ids that got more than one terminal reply
  long after_terminal = 0;  // non-terminal messages for an id after its terminal reply
  long late = 0;            // terminal replies for requests already counted lost
  long unmatched = 0;       // replies for ids this run never sent
  long misrouted = 0;       // replies that arrived on another connection than their request's
  long malformed = 0;       // frames that were not valid server messages
  long seq_gaps = 0;        // requests whose delta seq numbers skipped
  long errors_total() const;
  // Every sent id got exactly one terminal reply and nothing stray arrived.
  bool all_accounted() const;
  // Requests that ended with an error other than `overloaded` (which a load test past the
  // queue limit expects): refused as malformed, too long, or failed on the server.
  long refused_or_failed() const;
};

struct LoadgenReport {
  LoadgenOptions options;
  Accounting accounting;
  double duration_s = 0;
  double requests_per_s = 0, output_tokens_per_s = 0;
  LatencySummary ttft_ms, itl_ms, e2e_ms;
  std::vector<RequestRecord> requests;
};

// Runs the load. Throws gossamer::Error only for setup problems (bad endpoint); server
// misbehaviour is reported in the Accounting, not thrown.
LoadgenReport run_loadgen(const LoadgenOptions& options);

nlohmann::json to_json(const LoadgenReport& r);
void write_report_json(const LoadgenReport& r, const std::string& path);
void print_report(const LoadgenReport& r, std::ostream& out);

// What the verb calls: run, print, write JSON/PNG when asked. Exit code kExitOk only when
// every request is accounted for and none was refused or failed (refused_or_failed).
int run_loadgen_command(const LoadgenOptions& options, std::ostream& out, std::ostream& err);

}  // namespace gossamer::client
