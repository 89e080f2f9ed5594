#include "client/loadgen.h"

#include <array>
#include <chrono>
#include <memory>
#include <random>
#include <unordered_map>

#include "core/error.h"

namespace gossamer::client {
namespace {

using Clock = std::chrono::steady_clock;

// Common English words: each is one token in most BPE vocabularies, so a prompt of N
// words is close to N tokens without needing the tokenizer here.
constexpr std::array<const char*, 32> kWords = {
    "the", "of", "and", "to", "in", "is", "was", "for", "that", "on", "with", "as",
    "by", "at", "from", "his", "an", "were", "are", "which", "this", "be", "or", "has",
    "had", "not", "but", "first", "one", "their", "its", "new"};

class Run {
 public:
  explicit Run(const LoadgenOptions& o) : o_(o), rng_(o.seed) {
    report_.options = o;
    report_.options.connections = connections_for(o);
    report_.requests.resize(static_cast<size_t>(std::max(0, o.requests)));
    auto context = std::make_shared<zmq::context_t>(1);
    for (int i = 0; i < report_.options.connections; ++i) {
      clients_.push_back(std::make_unique<Client>(o.endpoint, context));
      client_ptrs_.push_back(clients_.back().get());
    }
  }

  static int connections_for(const LoadgenOptions& o) {
    const int c = std::max(1, o.concurrency);
    return o.connections > 0 ? std::min(o.connections, c) : c;
  }

  LoadgenReport finish_and_take() {
    summarize_report();
    return std::move(report_);
  }

  void drive() {
    const int n = std::max(0, o_.requests), c = std::max(1, o_.concurrency);
    int next = 0;
    while (next < n || !inflight_.empty()) {
      const bool time_up = o_.max_duration.count() > 0 && now_s() * 1e3 > o_.max_duration.count();
      while (!time_up && next < n && static_cast<int>(inflight_.size()) < c) send(next++);
      if (time_up && inflight_.empty()) break;
      receive(Millis(10));
      expire_silent_requests();
    }
    const auto drain_end = Clock::now() + o_.drain;
    while (Clock::now() < drain_end) receive(Millis(10));
    for (RequestRecord& r : report_.requests)
      if (r.status == "not_sent") ++report_.accounting.not_sent;
  }

 private:
  double now_s() const { return std::chrono::duration<double>(Clock::now() - start_).count(); }

  void send(int i) {
    RequestRecord& r = report_.requests[static_cast<size_t>(i)];
    r.id = "lg-" + std::to_string(o_.seed) + "-" + std::to_string(i);
    r.prompt_len = o_.prompt_len.sample(rng_);
    r.max_tokens = o_.output_len.sample(rng_);
    protocol::Submit s;
    s.id = r.id;
    if (o_.token_prompts_vocab > 0) {
      std::uniform_int_distribution<int32_t> tok(0, static_cast<int32_t>(o_.token_prompts_vocab - 1));
      s.tokens = std::vector<int32_t>(static_cast<size_t>(r.prompt_len));
      for (int32_t& t : *s.tokens) t = tok(rng_);
    } else {
      std::uniform_int_distribution<size_t> word(0, kWords.size() - 1);
      std::string text;
      for (int64_t k = 0; k < r.prompt_len; ++k) text += std::string(k ? " " : "") + kWords[word(rng_)];
      s.prompt = std::move(text);
    }
    s.params.max_tokens = r.max_tokens;
    s.params.temperature = o_.temperature;
    s.params.seed = o_.seed + static_cast<uint64_t>(i);
    s.params.stream = true;  // TTFT and ITL need the stream
    r.sent_s = r.last_activity_s = now_s();
    r.status = "in_flight";
    r.connection = i % static_cast<int>(clients_.size());
    try {
      clients_[static_cast<size_t>(r.connection)]->submit(std::move(s));
    } catch (const Error&) {
      r.status = "lost";  // the send itself timed out: the server never got it
      ++report_.accounting.sent;
      ++report_.accounting.lost;
      return;
    }
    ++report_.accounting.sent;
    by_id_[r.id] = static_cast<size_t>(i);
    inflight_[r.id] = static_cast<size_t>(i);
  }

  // Waits for the first message on any connection, then takes what has arrived on all.
  void receive(Millis timeout) {
    if (Client::wait_any(client_ptrs_, timeout) < 0) return;
    for (size_t c = 0; c < clients_.size(); ++c)
      for (int k = 0; k < 256; ++k) {  // bounded, so one busy connection cannot starve the loop
        std::optional<protocol::ServerMessage> m;
        try {
          m = clients_[c]->poll(Millis(0));
        } catch (const Error&) {
          ++report_.accounting.malformed;
          continue;
        }
        if (!m) break;
        handle(*m, static_cast<int>(c));
      }
  }

  void handle(const protocol::ServerMessage& m, int connection) {
    Accounting& a = report_.accounting;
    const std::optional<std::string> id = protocol::request_id_of(m);
    auto it = id ? by_id_.find(*id) : by_id_.end();
    if (it == by_id_.end()) {
      ++a.unmatched;
      return;
    }
    RequestRecord& r = report_.requests[it->second];
    if (connection != r.connection) ++a.misrouted;
    const bool terminal = protocol::is_terminal(m);
    if (r.status == "lost") {
      a.late += terminal;
      return;
    }
    if (r.terminals > 0) {
      if (terminal && ++r.terminals == 2) ++a.duplicated;
      if (!terminal) ++a.after_terminal;
      return;
    }
    const double t = now_s();
    r.last_activity_s = t;
    if (const auto* d = std::get_if<protocol::Delta>(&m)) {
      const auto n = static_cast<int64_t>(std::max<size_t>(1, d->token_ids.size()));
      // A delta may carry several tokens (the server batches them); spread its gap evenly.
      if (r.first_token_s < 0) r.first_token_s = t;
      else for (int64_t k = 0; k < n; ++k) r.itl_ms.push_back((t - r.end_s) * 1e3 / static_cast<double>(n));
      r.end_s = t;  // time of the latest delta until the terminal overwrites it
      r.output_tokens += static_cast<int64_t>(d->token_ids.size());
      if (d->seq != r.next_seq && r.next_seq >= 0) {
        ++a.seq_gaps;
        r.next_seq = -1;  // count each request once
      } else if (r.next_seq >= 0) {
        ++r.next_seq;
      }
    }
    if (!terminal) return;
    r.terminals = 1;
    r.end_s = t;
    inflight_.erase(r.id);
    if (const auto* d = std::get_if<protocol::Done>(&m)) {
      r.status = "ok";
      r.finish_reason = protocol::finish_reason_string(d->finish_reason);
      ++a.ok;
    } else {
      const auto& e = std::get<protocol::ErrorReply>(m);
      const std::string code = protocol::error_code_string(e.code);
      r.status = "error:" + code;
      ++a.errors[code];
      if (a.first_error.empty()) a.first_error = code + ": " + e.message;
    }
  }

  void expire_silent_requests() {
    const double t = now_s(), limit = static_cast<double>(o_.request_timeout.count()) / 1e3;
    for (auto it = inflight_.begin(); it != inflight_.end();) {
      RequestRecord& r = report_.requests[it->second];
      if (t - r.last_activity_s <= limit) {
        ++it;
        continue;
      }
      r.status = "lost";
      ++report_.accounting.lost;
      try {
        clients_[static_cast<size_t>(r.connection)]->cancel(r.id);  // so a live server frees its resources
      } catch (const Error&) {
      }
      it = inflight_.erase(it);
    }
  }

  void summarize_report() {
    std::vector<double> ttft, itl, e2e;
    double last_end = 0;
    int64_t tokens = 0;
    for (const RequestRecord& r : report_.requests) {
      if (r.status != "ok") continue;
      if (r.first_token_s >= 0) ttft.push_back((r.first_token_s - r.sent_s) * 1e3);
      e2e.push_back((r.end_s - r.sent_s) * 1e3);
      itl.insert(itl.end(), r.itl_ms.begin(), r.itl_ms.end());
      last_end = std::max(last_end, r.end_s);
      tokens += r.output_tokens;
    }
    report_.duration_s = last_end;
    if (last_end > 0) {
      report_.requests_per_s = static_cast<double>(report_.accounting.ok) / last_end;
      report_.output_tokens_per_s = static_cast<double>(tokens) / last_end;
    }
    report_.ttft_ms = summarize(ttft);
    report_.itl_ms = summarize(itl);
    report_.e2e_ms = summarize(e2e);
  }

  const LoadgenOptions& o_;
  std::vector<std::unique_ptr<Client>> clients_;
  std::vector<Client*> client_ptrs_;
  std::mt19937_64 rng_;
  LoadgenReport report_;
  const Clock::time_point start_ = Clock::now();
  std::unordered_map<std::string, size_t> by_id_;     // every id sent
  std::unordered_map<std::string, size_t> inflight_;  // ids still waiting for a terminal
};

}  // namespace

long Accounting::errors_total() const {
  long n = 0;
  for (const auto& [code, count] : errors) n += count;
  return n;
}

long Accounting::refused_or_failed() const {
  long n = errors_total();
  if (auto it = errors.find("overloaded"); it != errors.end()) n -= it->second;
  return n;
}

bool Accounting::all_accounted() const {
  return ok + errors_total() == sent && lost == 0 && duplicated == 0 && after_terminal == 0 &&
         late == 0 && unmatched == 0 && misrouted == 0 && malformed == 0 && seq_gaps == 0;
}

LoadgenReport run_loadgen(const LoadgenOptions& options) {
  if (options.requests < 0 || options.concurrency < 1 || options.connections < 0)
    GOSSAMER_THROW(kInvalidArgument, "loadgen: requests must be >= 0, concurrency >= 1 and connections >= 0");
  Run run(options);
  run.drive();
  return run.finish_and_take();
}

}  // namespace gossamer::client
