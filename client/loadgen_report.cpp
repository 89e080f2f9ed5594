// Loadgen output: the JSON document, the console table and the verb's driver.
#include <fstream>
#include <iomanip>
#include <ostream>

#include "client/latency_plot.h"
#include "client/loadgen.h"
#include "client/submit.h"
#include "core/error.h"

namespace gossamer::client {
namespace {

using json = nlohmann::json;

json options_json(const LoadgenOptions& o) {
  return {{"endpoint", o.endpoint},
          {"requests", o.requests},
          {"concurrency", o.concurrency},
          {"connections", o.connections},
          {"prompt_len", o.prompt_len.to_string()},
          {"output_len", o.output_len.to_string()},
          {"seed", o.seed},
          {"temperature", o.temperature},
          {"token_prompts_vocab", o.token_prompts_vocab},
          {"request_timeout_ms", o.request_timeout.count()}};
}

json accounting_json(const Accounting& a) {
  return {{"sent", a.sent},         {"ok", a.ok},
          {"errors", a.errors},     {"errors_total", a.errors_total()},
          {"lost", a.lost},         {"not_sent", a.not_sent},
          {"duplicated", a.duplicated}, {"after_terminal", a.after_terminal},
          {"late", a.late},         {"unmatched", a.unmatched},
          {"misrouted", a.misrouted},
          {"malformed", a.malformed}, {"seq_gaps", a.seq_gaps},
          {"all_accounted", a.all_accounted()}};
}

void print_row(std::ostream& out, const char* name, const LatencySummary& s) {
  out << "  " << std::left << std::setw(16) << name << std::right << std::fixed << std::setprecision(2)
      << std::setw(10) << s.p50 << std::setw(10) << s.p90 << std::setw(10) << s.p99 << std::setw(10)
      << s.mean << std::setw(10) << s.count << "\n";
}

}  // namespace

json to_json(const LoadgenReport& r) {
  json requests = json::array();
  for (const RequestRecord& q : r.requests) {
    json j{{"id", q.id}, {"status", q.status}, {"prompt_len", q.prompt_len},
           {"max_tokens", q.max_tokens}, {"output_tokens", q.output_tokens}, {"sent_s", q.sent_s}};
    if (q.first_token_s >= 0) j["ttft_ms"] = (q.first_token_s - q.sent_s) * 1e3;
    if (q.status == "ok") j["e2e_ms"] = (q.end_s - q.sent_s) * 1e3;
    if (!q.finish_reason.empty()) j["finish_reason"] = q.finish_reason;
    requests.push_back(std::move(j));
  }
  return {{"options", options_json(r.options)},
          {"accounting", accounting_json(r.accounting)},
          {"duration_s", r.duration_s},
          {"throughput", {{"requests_per_s", r.requests_per_s}, {"output_tokens_per_s", r.output_tokens_per_s}}},
          {"ttft_ms", to_json(r.ttft_ms)},
          {"itl_ms", to_json(r.itl_ms)},
          {"e2e_ms", to_json(r.e2e_ms)},
          {"requests", std::move(requests)}};
}

void write_report_json(const LoadgenReport& r, const std::string& path) {
  std::ofstream out(path);
  out << to_json(r).dump(2) << "\n";
  if (!out) GOSSAMER_THROW(kIo, "cannot write loadgen report {}", path);
}

void print_report(const LoadgenReport& r, std::ostream& out) {
  const Accounting& a = r.accounting;
  out << "loadgen: " << a.sent << " sent, " << a.ok << " ok, " << a.errors_total() << " errors, "
      << a.lost << " lost, " << a.duplicated << " duplicated, " << a.unmatched << " unmatched"
      << (a.misrouted ? ", " + std::to_string(a.misrouted) + " on the wrong connection" : "")
      << (a.not_sent ? ", " + std::to_string(a.not_sent) + " not sent" : "") << "\n";
  for (const auto& [code, n] : a.errors) out << "  error " << code << ": " << n << "\n";
  out << "  " << r.options.connections << " connection(s), concurrency " << r.options.concurrency << "\n";
  out << std::fixed << std::setprecision(2) << "  duration " << r.duration_s << " s, "
      << r.requests_per_s << " req/s, " << r.output_tokens_per_s << " output tok/s\n";
  out << "  " << std::left << std::setw(16) << "latency (ms)" << std::right << std::setw(10) << "p50"
      << std::setw(10) << "p90" << std::setw(10) << "p99" << std::setw(10) << "mean" << std::setw(10)
      << "n" << "\n";
  print_row(out, "ttft", r.ttft_ms);
  print_row(out, "inter-token", r.itl_ms);
  print_row(out, "end-to-end", r.e2e_ms);
}

int run_loadgen_command(const LoadgenOptions& options, std::ostream& out, std::ostream& err) {
  try {
    LoadgenReport r = run_loadgen(options);
    print_report(r, out);
    if (!options.json_path.empty()) {
      write_report_json(r, options.json_path);
      out << "  wrote " << options.json_path << "\n";
    }
    if (!options.plot_path.empty()) {
      write_latency_plot(r, options.plot_path);
      out << "  wrote " << options.plot_path << "\n";
    }
    if (!r.accounting.all_accounted()) {
      err << "loadgen: not every request got exactly one terminal reply (see accounting)\n";
      return kExitServerError;
    }
    if (const long bad = r.accounting.refused_or_failed(); bad > 0) {
      err << "loadgen: " << bad << " request(s) were refused or failed; first: " << r.accounting.first_error
          << "\n";
      return kExitServerError;
    }
    return kExitOk;
  } catch (const Error& e) {
    err << "loadgen: " << e.what() << "\n";
    return kExitTransport;
  }
}

}  // namespace gossamer::client
