// The chaos soak's client side (bench/soak/run.sh): a mixed load against a running server
// for a fixed time, with misbehaving clients beside the well-behaved ones, then the
// accounting that proves the contract held.
//
//   soak_driver --endpoint tcp://127.0.0.1:5601 --seconds 600 [--workers 8]
//               [--stop-pid PID --stop-every 60 --stop-for 5] [--vocab 4096]
//               [--json-out FILE] [--expect-failure]
//
// Well-behaved workers (one connection each) submit token prompts, streamed or not, and
// sometimes cancel after the first delta; they read every reply. For each id they got
// `accepted` for, the driver counts terminal replies (Done, or an error carrying the id)
// and anything that arrives after the terminal one (a duplicate). Misbehaving clients, in
// their own threads: a vanisher (submits, reads a delta, closes its socket), a never-reader
// (submits a few requests and never reads until the end), a bad-frame sender (malformed
// JSON, wrong types, a frame over the size limit) and a burster (100 submits at once, past
// max_queue: `overloaded` is a terminal reply like any other). With --stop-pid the driver
// stops that process (SIGSTOP) for --stop-for seconds every --stop-every seconds: a
// follower rank that stalls for less than the comm timeout must cost latency, not requests.
//
// At the end: every worker drains its requests (bounded wait), then one `stats`: KV blocks
// used in both pools must be 0. Exit 0 only when lost = 0, duplicates = 0 and KV used = 0
// (with --expect-failure: when every worker's requests ended, in a terminal reply or a
// transport error, within the wait — the rank-0-killed run).
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "client/client.h"
#include "core/error.h"

namespace {

using namespace gossamer;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

struct Options {
  std::string endpoint = "tcp://127.0.0.1:5601";
  double seconds = 600;
  int workers = 8;
  int stop_pid = 0;
  double stop_every = 60, stop_for = 5;
  int vocab = 4096;
  std::string json_out;
  bool expect_failure = false;
};

// What the well-behaved workers saw, summed.
struct Tally {
  std::mutex mu;
  int64_t submitted = 0, accepted = 0, terminal = 0, lost = 0, duplicates = 0;
  int64_t cancelled = 0, overloaded = 0, other_errors = 0, transport_errors = 0;
  int64_t misbehaving_submits = 0, bad_frames = 0, bad_frame_replies = 0;
  std::map<std::string, int64_t> finish;  // finish reason -> count
};

protocol::Submit random_submit(std::mt19937& rng, int vocab, bool stream) {
  protocol::Submit s;
  std::uniform_int_distribution<int> len(4, 48), tok(1, vocab - 1), out(4, 32);
  std::vector<int32_t> tokens(static_cast<size_t>(len(rng)));
  for (auto& t : tokens) t = tok(rng);
  s.tokens = std::move(tokens);
  s.params.max_tokens = out(rng);
  s.params.temperature = 0.7;
  s.params.seed = rng();
  s.params.stream = stream;
  return s;
}

// Per request: did it get accepted, how many terminal replies, anything after them.
struct RequestLog {
  bool accepted = false;
  int terminals = 0;
  bool after_terminal = false;
};

// One well-behaved connection: up to 4 requests in flight, every reply read.
void worker(const Options& o, int index, std::atomic<bool>& stop, Tally& tally) {
  std::mt19937 rng(1000 + index);
  std::map<std::string, RequestLog> log;
  int64_t transport_errors = 0;
  try {
    client::Client c(o.endpoint);
    std::set<std::string> open;
    std::set<std::string> to_cancel;
    auto on_message = [&](const protocol::ServerMessage& m) {
      const auto id = protocol::request_id_of(m);
      if (!id) return;
      auto it = log.find(*id);
      if (it == log.end()) return;
      RequestLog& r = it->second;
      if (r.terminals > 0) r.after_terminal = true;
      if (std::holds_alternative<protocol::Accepted>(m)) r.accepted = true;
      if (std::holds_alternative<protocol::Delta>(m) && to_cancel.erase(*id)) c.cancel(*id);
      if (protocol::is_terminal(m)) {
        ++r.terminals;
        open.erase(*id);
        std::lock_guard lock(tally.mu);
        if (const auto* d = std::get_if<protocol::Done>(&m)) {
          ++tally.finish[protocol::finish_reason_string(d->finish_reason)];
          if (d->finish_reason == protocol::FinishReason::kCancelled) ++tally.cancelled;
        } else if (const auto* e = std::get_if<protocol::ErrorReply>(&m)) {
          if (e->code == protocol::ErrorCode::kOverloaded) ++tally.overloaded;
          else ++tally.other_errors;
        }
      }
    };
    while (!stop) {
      while (open.size() < 4 && !stop) {
        const bool stream = rng() % 2 == 0;
        const std::string id = c.submit(random_submit(rng, o.vocab, stream));
        log[id];
        open.insert(id);
        if (stream && rng() % 5 == 0) to_cancel.insert(id);
        std::lock_guard lock(tally.mu);
        ++tally.submitted;
      }
      if (auto m = c.poll(100ms)) on_message(*m);
    }
    // Drain: the requests still open get their terminal replies (bounded wait).
    const auto deadline = Clock::now() + (o.expect_failure ? 90s : 120s);
    while (!open.empty() && Clock::now() < deadline)
      if (auto m = c.poll(200ms)) on_message(*m);
    // Anything late (a duplicate terminal) shows up within a short grace period.
    const auto grace = Clock::now() + 1s;
    while (Clock::now() < grace)
      if (auto m = c.poll(100ms)) on_message(*m);
  } catch (const Error& e) {
    ++transport_errors;
    std::fprintf(stderr, "worker %d: %s\n", index, e.what());
  }
  std::lock_guard lock(tally.mu);
  tally.transport_errors += transport_errors;
  for (const auto& [id, r] : log) {
    tally.accepted += r.accepted;
    tally.terminal += r.terminals > 0;
    if (r.accepted && r.terminals == 0) ++tally.lost;
    if (r.terminals > 1 || r.after_terminal) ++tally.duplicates;
  }
}

// Submits a streaming request, reads one delta, closes the connection mid-stream.
void vanisher(const Options& o, std::atomic<bool>& stop, Tally& tally) {
  std::mt19937 rng(7);
  while (!stop) {
    try {
      client::Client c(o.endpoint);
      const std::string id = c.submit(random_submit(rng, o.vocab, true));
      for (int i = 0; i < 20 && !stop; ++i) {
        auto m = c.poll(200ms);
        if (m && std::holds_alternative<protocol::Delta>(*m)) break;
      }
      std::lock_guard lock(tally.mu);
      ++tally.misbehaving_submits;
    } catch (const Error&) {
    }
    std::this_thread::sleep_for(500ms);
  }
}

// Submits 8 streaming requests and never reads until the end of the run.
void never_reader(const Options& o, std::atomic<bool>& stop, Tally& tally) {
  std::mt19937 rng(11);
  try {
    client::Client c(o.endpoint);
    for (int i = 0; i < 8; ++i) c.submit(random_submit(rng, o.vocab, true));
    {
      std::lock_guard lock(tally.mu);
      tally.misbehaving_submits += 8;
    }
    while (!stop) std::this_thread::sleep_for(200ms);
  } catch (const Error&) {
  }
}

// Malformed and oversized frames; every one must be answered with an error (never a crash).
// Replies are counted as they come (a slow one is not a missing one); the end drains them.
void bad_frames(const Options& o, std::atomic<bool>& stop, Tally& tally) {
  const std::vector<std::string> frames = {
      "{not json", R"({"v":1,"type":"submit","id":"b1","tokens":"abc"})", R"({"v":1,"type":"nope"})",
      R"({"v":1,"type":"submit","id":"b2","tokens":[-5]})", std::string(1, '\xff'),
      R"({"v":1,"type":"submit","id":"b3","tokens":[1],"params":{"max_tokens":-1}})",
      std::string(size_t{17} << 20, 'x')};  // past the default 16 MiB frame limit
  size_t next = 0;
  int64_t sent = 0, answered = 0;
  try {
    client::Client c(o.endpoint);
    auto read_replies = [&](std::chrono::milliseconds wait) {
      while (auto m = c.poll(wait)) {
        answered += std::holds_alternative<protocol::ErrorReply>(*m);
        wait = std::chrono::milliseconds(0);
      }
    };
    while (!stop) {
      c.send_raw(frames[next++ % frames.size()]);
      ++sent;
      // A steady trickle, not a flood that starves the others; at most 20 unanswered.
      read_replies(sent - answered > 20 ? 1000ms : 20ms);
    }
    for (int i = 0; i < 300 && answered < sent; ++i) read_replies(100ms);
  } catch (const Error& e) {
    std::fprintf(stderr, "bad-frame sender: %s\n", e.what());
  }
  if (answered != sent) std::fprintf(stderr, "bad frames: %lld sent, %lld error replies\n", (long long)sent, (long long)answered);
  std::lock_guard lock(tally.mu);
  tally.bad_frames += sent;
  tally.bad_frame_replies += answered;
}

// Every 30 s: 100 submits at once (past max_queue), then reads until all 100 ended.
void burster(const Options& o, std::atomic<bool>& stop, Tally& tally) {
  std::mt19937 rng(13);
  while (!stop) {
    try {
      client::Client c(o.endpoint);
      std::set<std::string> open;
      for (int i = 0; i < 100; ++i) open.insert(c.submit(random_submit(rng, o.vocab, false)));
      // Bursts wait behind the well-behaved load on a slow machine: a generous deadline,
      // since a request that never ends at all is what this counts.
      const auto deadline = Clock::now() + (o.expect_failure ? 60s : 600s);
      while (!open.empty() && Clock::now() < deadline)
        if (auto m = c.poll(200ms); m && protocol::is_terminal(*m)) open.erase(*protocol::request_id_of(*m));
      std::lock_guard lock(tally.mu);
      tally.misbehaving_submits += 100;
      if (!open.empty()) std::fprintf(stderr, "burst: %zu of 100 requests never ended\n", open.size());
      tally.lost += static_cast<int64_t>(open.size());
    } catch (const Error&) {
    }
    for (int i = 0; i < 150 && !stop; ++i) std::this_thread::sleep_for(200ms);
  }
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
      return argv[++i];
    };
    if (a == "--endpoint") o.endpoint = next();
    else if (a == "--seconds") o.seconds = std::stod(next());
    else if (a == "--workers") o.workers = std::stoi(next());
    else if (a == "--stop-pid") o.stop_pid = std::stoi(next());
    else if (a == "--stop-every") o.stop_every = std::stod(next());
    else if (a == "--stop-for") o.stop_for = std::stod(next());
    else if (a == "--vocab") o.vocab = std::stoi(next());
    else if (a == "--json-out") o.json_out = next();
    else if (a == "--expect-failure") o.expect_failure = true;
    else throw std::runtime_error("unknown option " + a);
  }
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  Options o;
  try {
    o = parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "soak_driver: %s\n", e.what());
    return 2;
  }
  std::atomic<bool> stop{false};
  Tally tally;
  std::vector<std::thread> threads;
  for (int i = 0; i < o.workers; ++i) threads.emplace_back(worker, std::cref(o), i, std::ref(stop), std::ref(tally));
  threads.emplace_back(vanisher, std::cref(o), std::ref(stop), std::ref(tally));
  threads.emplace_back(never_reader, std::cref(o), std::ref(stop), std::ref(tally));
  threads.emplace_back(bad_frames, std::cref(o), std::ref(stop), std::ref(tally));
  threads.emplace_back(burster, std::cref(o), std::ref(stop), std::ref(tally));

  const auto start = Clock::now();
  int stops = 0;
  auto next_stop = start + std::chrono::duration<double>(o.stop_every);
  while (Clock::now() - start < std::chrono::duration<double>(o.seconds)) {
    std::this_thread::sleep_for(200ms);
    if (o.stop_pid > 0 && Clock::now() >= next_stop) {
      // A follower stalls (as under a long page fault or a preempted VM) and resumes.
      if (::kill(o.stop_pid, SIGSTOP) == 0) {
        std::this_thread::sleep_for(std::chrono::duration<double>(o.stop_for));
        ::kill(o.stop_pid, SIGCONT);
        ++stops;
      }
      next_stop = Clock::now() + std::chrono::duration<double>(o.stop_every);
    }
  }
  stop = true;
  for (auto& t : threads) t.join();

  int64_t kv_used = -1, kv_window_used = -1;
  if (!o.expect_failure) {
    try {
      client::Client c(o.endpoint);
      // The never-reader's and the vanishers' sequences end when the server notices their
      // connections are gone or their outputs finish: give the scheduler a moment.
      for (int i = 0; i < 50; ++i) {
        const auto s = c.stats(5s);
        kv_used = s.kv_blocks_used;
        kv_window_used = s.extra.value("kv_window_blocks_used", int64_t{0});
        if (kv_used == 0 && kv_window_used == 0 && s.running == 0) break;
        std::this_thread::sleep_for(200ms);
      }
    } catch (const Error& e) {
      std::fprintf(stderr, "stats: %s\n", e.what());
    }
  }

  nlohmann::json j = {{"endpoint", o.endpoint},       {"seconds", o.seconds},
                      {"workers", o.workers},         {"follower_stops", stops},
                      {"submitted", tally.submitted}, {"accepted", tally.accepted},
                      {"terminal", tally.terminal},   {"lost", tally.lost},
                      {"duplicates", tally.duplicates}, {"cancelled", tally.cancelled},
                      {"overloaded", tally.overloaded}, {"other_errors", tally.other_errors},
                      {"transport_errors", tally.transport_errors},
                      {"misbehaving_submits", tally.misbehaving_submits},
                      {"bad_frames", tally.bad_frames}, {"bad_frame_replies", tally.bad_frame_replies},
                      {"finish", tally.finish},       {"kv_blocks_used_at_end", kv_used},
                      {"kv_window_blocks_used_at_end", kv_window_used}};
  std::printf("%s\n", j.dump(2).c_str());
  if (!o.json_out.empty()) std::ofstream(o.json_out) << j.dump(2) << "\n";
  const bool ok = o.expect_failure
                      ? tally.duplicates == 0
                      : tally.lost == 0 && tally.duplicates == 0 && kv_used == 0 && kv_window_used == 0 &&
                            tally.bad_frames == tally.bad_frame_replies && tally.accepted > 0;
  std::printf("soak: %s\n", ok ? "PASS" : "FAIL");
  return ok ? 0 : 1;
}
