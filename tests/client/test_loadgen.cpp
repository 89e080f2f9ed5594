// Loadgen accounting against the fixture over real sockets: every id must get exactly one
// terminal reply, and injected faults (lost, duplicated terminals) must be caught.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>

#include "client/latency_plot.h"
#include "client/loadgen.h"
#include "core/error.h"
#include "fixture_server.h"

using namespace gossamer;
using namespace gossamer::client;

namespace {

std::filesystem::path temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("gossamer_test_client_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir;
}

LoadgenOptions options_for(const test::FixtureServer& server, int n, int c) {
  LoadgenOptions o;
  o.endpoint = server.endpoint();
  o.requests = n;
  o.concurrency = c;
  o.prompt_len = LengthDist::parse("uniform:4:48");
  o.output_len = LengthDist::parse("uniform:1:24");
  o.seed = 7;
  o.request_timeout = Millis(3000);
  return o;
}

}  // namespace

TEST(Loadgen, FiveHundredRequestsAtConcurrency32AllAccountedWithJsonAndPng) {
  test::FixtureServer server;
  const auto dir = temp_dir("lg500");
  LoadgenOptions o = options_for(server, 500, 32);
  o.json_path = (dir / "report.json").string();
  o.plot_path = (dir / "latency.png").string();
  LoadgenReport r = run_loadgen(o);
  const Accounting& a = r.accounting;
  EXPECT_EQ(a.sent, 500);
  EXPECT_EQ(a.ok, 500);
  EXPECT_EQ(a.errors_total(), 0);
  EXPECT_EQ(a.lost, 0);
  EXPECT_EQ(a.duplicated, 0);
  EXPECT_EQ(a.unmatched, 0);
  EXPECT_EQ(a.seq_gaps, 0);
  EXPECT_TRUE(a.all_accounted());
  EXPECT_EQ(server.submits_seen(), 500);
  // One connection per in-flight slot by default, and every reply came back on the
  // connection its request went out on.
  EXPECT_EQ(r.options.connections, 32);
  EXPECT_EQ(server.submitting_connections(), 32);
  EXPECT_EQ(a.misrouted, 0);
  std::set<std::string> ids;
  for (const RequestRecord& q : r.requests) {
    EXPECT_EQ(q.terminals, 1) << q.id;
    EXPECT_EQ(q.status, "ok") << q.id;
    ids.insert(q.id);
  }
  EXPECT_EQ(ids.size(), 500u);  // each id distinct and matched to its own reply
  EXPECT_GT(r.requests_per_s, 0);
  EXPECT_EQ(r.ttft_ms.count, 500u);
  EXPECT_GT(r.itl_ms.count, 0u);
  EXPECT_LE(r.ttft_ms.p50, r.ttft_ms.p99);

  write_report_json(r, o.json_path);
  nlohmann::json j = nlohmann::json::parse(std::ifstream(o.json_path));
  EXPECT_EQ(j["accounting"]["ok"], 500);
  EXPECT_EQ(j["accounting"]["all_accounted"], true);
  EXPECT_EQ(j["requests"].size(), 500u);
  for (const char* k : {"p50", "p90", "p99"}) EXPECT_TRUE(j["ttft_ms"].contains(k));

  write_latency_plot(r, o.plot_path);
  EXPECT_TRUE(std::filesystem::exists(o.plot_path));
  EXPECT_GT(std::filesystem::file_size(o.plot_path), 1000u);
  EXPECT_TRUE(has_png_signature(o.plot_path));
  if (!std::getenv("GOSSAMER_KEEP_TEST_FILES")) std::filesystem::remove_all(dir);
}

TEST(Loadgen, ConnectionsCanBeFewerThanTheConcurrency) {
  test::FixtureServer server;
  LoadgenOptions o = options_for(server, 40, 8);
  o.connections = 1;  // every request multiplexed on one DEALER
  LoadgenReport r = run_loadgen(o);
  EXPECT_TRUE(r.accounting.all_accounted());
  EXPECT_EQ(r.accounting.ok, 40);
  EXPECT_EQ(server.submitting_connections(), 1);
  o.connections = 100;  // never more than the requests in flight
  EXPECT_EQ(run_loadgen(o).options.connections, 8);
}

TEST(Loadgen, DetectsLostAndDuplicatedTerminalReplies) {
  test::FixtureServerOptions fo;
  fo.drop_terminal_every = 10;      // 6 of 60 never finish
  fo.duplicate_terminal_every = 7;  // 60/7 = 8 get two terminals; 70 would overlap, not here
  test::FixtureServer server(fo);
  LoadgenOptions o = options_for(server, 60, 8);
  o.request_timeout = Millis(1000);  // long enough that no served request looks lost
  LoadgenReport r = run_loadgen(o);
  EXPECT_EQ(r.accounting.sent, 60);
  EXPECT_EQ(r.accounting.lost, 6);
  EXPECT_EQ(r.accounting.duplicated, 8);
  EXPECT_EQ(r.accounting.ok, 54);
  EXPECT_FALSE(r.accounting.all_accounted());
}

TEST(Loadgen, SilentServerEndsWithEveryRequestLostNotAHang) {
  test::FixtureServerOptions fo;
  fo.silent = true;
  test::FixtureServer server(fo);
  LoadgenOptions o = options_for(server, 10, 4);
  o.request_timeout = Millis(100);
  const auto t0 = std::chrono::steady_clock::now();
  LoadgenReport r = run_loadgen(o);
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5));
  EXPECT_EQ(r.accounting.lost, 10);
  EXPECT_EQ(r.accounting.ok, 0);
  std::ostringstream out, err;
  o.plot_path = (temp_dir("silent") / "p.png").string();
  EXPECT_NE(run_loadgen_command(o, out, err), 0);
  EXPECT_NE(err.str().find("no completed requests"), std::string::npos) << err.str();
}

TEST(Loadgen, MissingGnuplotIsAClearErrorNotAFakePlot) {
  test::FixtureServer server;
  LoadgenReport r = run_loadgen(options_for(server, 5, 2));
  const std::string png = (temp_dir("nognuplot") / "p.png").string();
  const std::string old_path = std::getenv("PATH") ? std::getenv("PATH") : "";
  ::setenv("PATH", "/nonexistent-gossamer", 1);
  try {
    write_latency_plot(r, png);
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("gnuplot"), std::string::npos);
  }
  ::setenv("PATH", old_path.c_str(), 1);
  EXPECT_FALSE(std::filesystem::exists(png));
}

TEST(Loadgen, LengthDistributionsAndPercentiles) {
  std::mt19937_64 rng(1);
  LengthDist u = LengthDist::parse("uniform:3:5");
  for (int i = 0; i < 100; ++i) {
    const int64_t v = u.sample(rng);
    EXPECT_GE(v, 3);
    EXPECT_LE(v, 5);
  }
  EXPECT_EQ(LengthDist::parse("fixed:9").sample(rng), 9);
  EXPECT_EQ(LengthDist::parse("12").sample(rng), 12);
  EXPECT_GE(LengthDist::parse("normal:2:50").sample(rng), 1);  // clamped
  EXPECT_THROW(LengthDist::parse("poisson:3"), Error);
  EXPECT_THROW(LengthDist::parse("uniform:5:3"), Error);
  EXPECT_DOUBLE_EQ(percentile({1, 2, 3, 4}, 50), 2.5);
  EXPECT_DOUBLE_EQ(percentile({10}, 99), 10);
  LatencySummary s = summarize({1, 2, 3, 4, 5, 6, 7, 8, 9, 10});
  EXPECT_DOUBLE_EQ(s.p90, 9.1);
  EXPECT_DOUBLE_EQ(s.max, 10);
}

TEST(Loadgen, SameSeedSameRequests) {
  test::FixtureServer server;
  LoadgenReport a = run_loadgen(options_for(server, 20, 4));
  LoadgenReport b = run_loadgen(options_for(server, 20, 4));
  for (size_t i = 0; i < 20; ++i) {
    EXPECT_EQ(a.requests[i].prompt_len, b.requests[i].prompt_len);
    EXPECT_EQ(a.requests[i].max_tokens, b.requests[i].max_tokens);
    EXPECT_EQ(a.requests[i].output_tokens, b.requests[i].output_tokens);
  }
}
