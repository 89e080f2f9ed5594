// The service as a 2-rank MPI job: 500 requests at concurrency 32 all accounted for, and a
// rank killed with SIGKILL mid-batch fails every in-flight request quickly, ending the job.
#include <gtest/gtest.h>

#include <signal.h>

#include <thread>

#include "client/loadgen.h"
#include "server_process.h"
#include "service_helpers.h"

namespace gossamer::testing {
namespace {

const std::string kClusterArgs = "--model " + tiny_model() +
                                 " --threads 1 --max-context 512 --kv-blocks 512 --kv-block-size 8 --comm-timeout 5";

TEST(ServiceCluster, FiveHundredRequestsAtConcurrency32AllAccountedFor) {
  // dp=2: two replicas with their own KV pools, experts split over both ranks.
  ServerProcess server(2, kClusterArgs + " --parallel dp=2,ep=2", 5);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::LoadgenOptions o;
  o.endpoint = server.endpoint();
  o.requests = 500;
  o.concurrency = 32;
  o.prompt_len = client::LengthDist::parse("uniform:4:40");
  o.output_len = client::LengthDist::parse("uniform:2:12");
  o.token_prompts_vocab = 4096;
  o.seed = 5;
  o.request_timeout = 60s;
  const auto report = client::run_loadgen(o);
  const auto& a = report.accounting;
  EXPECT_EQ(a.sent, 500);
  EXPECT_EQ(a.ok, 500);
  EXPECT_EQ(a.lost, 0);
  EXPECT_EQ(a.duplicated, 0);
  EXPECT_EQ(a.unmatched, 0);
  EXPECT_EQ(report.options.connections, 32);  // 32 clients, each reply on its own connection
  EXPECT_EQ(a.misrouted, 0);
  EXPECT_EQ(a.after_terminal, 0);
  EXPECT_EQ(a.seq_gaps, 0);
  EXPECT_EQ(a.errors_total(), 0);
  EXPECT_TRUE(a.all_accounted());
  client::Client c(server.endpoint());
  auto st = c.stats(5s);
  EXPECT_EQ(st.running, 0);
  EXPECT_EQ(st.queued, 0);
  EXPECT_EQ(st.kv_blocks_used, 0);
  EXPECT_EQ(st.extra.value("kv_window_blocks_used", -1), 0);
  EXPECT_EQ(server.stop(20s), 0) << server.log();  // a clean shutdown of both ranks
}

TEST(ServiceCluster, RankKilledMidBatchFailsEveryRequestAndEndsTheJob) {
  ServerProcess server(2, kClusterArgs + " --parallel tp=2", 6);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client a(server.endpoint()), b(server.endpoint());
  std::vector<std::pair<client::Client*, std::string>> live;
  for (int i = 0; i < 8; ++i) {
    auto& c = i % 2 ? a : b;
    live.push_back({&c, c.submit(token_submit("k" + std::to_string(i), {1 + i, 2, 3, 4}, 400))});
  }
  for (auto& [c, id] : live) {  // every request is streaming
    bool streaming = false;
    for (int k = 0; k < 100 && !streaming; ++k) {
      auto m = c->poll_for(id, 10s);
      ASSERT_TRUE(m.has_value()) << id;
      streaming = std::holds_alternative<protocol::Delta>(*m);
    }
    ASSERT_TRUE(streaming) << id;
  }
  const int victim = server.rank_pid(1);
  ASSERT_GT(victim, 0);
  const auto killed_at = std::chrono::steady_clock::now();
  ASSERT_EQ(::kill(victim, SIGKILL), 0);

  for (auto& [c, id] : live) {
    std::optional<protocol::ErrorReply> err;
    while (!err) {
      const auto left = 10s - (std::chrono::steady_clock::now() - killed_at);
      ASSERT_GT(left.count(), 0) << id << ": no terminal error within 10 s of the kill";
      auto m = c->poll_for(id, std::chrono::duration_cast<std::chrono::milliseconds>(left));
      ASSERT_TRUE(m.has_value()) << id << ": no terminal error within 10 s of the kill";
      ASSERT_FALSE(std::holds_alternative<protocol::Done>(*m)) << id;
      if (auto* e = std::get_if<protocol::ErrorReply>(&*m); e && e->id) err = *e;
    }
    EXPECT_EQ(err->code, protocol::ErrorCode::kRankFailure) << err->message;
  }
  const int rc = server.wait_exit(30s);
  EXPECT_NE(rc, -1) << "the job did not end within 30 s of the kill";
  EXPECT_NE(rc, 0);
  const std::string log = server.log();
  EXPECT_TRUE(log.find("rank 1") != std::string::npos || log.find("rank_failure") != std::string::npos) << log;
}

// SIGTERM to rank 0 from an operator (not from the launcher) while a step runs for
// seconds: the step finishes, the request in flight ends with `shutting_down` (not
// `rank_failure`), and both ranks exit 0.
TEST(ServiceCluster, StopSignalDuringALongStepEndsCleanly) {
  const std::string model = synth_deep_model("deep");
  ASSERT_FALSE(model.empty()) << "gossamer synth failed";
  ServerProcess server(2, "--model " + model + " --parallel tp=2 --threads 1 --max-context 4096 --kv-blocks 600 " +
                              "--max-batch-tokens 4096 --comm-timeout 60", 8);
  ASSERT_TRUE(server.wait_healthy()) << server.log();
  client::Client c(server.endpoint());
  const std::string id = c.submit(token_submit("long-prefill", long_prefill_prompt(), 4));
  auto accepted = c.poll_for(id, 30s);
  ASSERT_TRUE(accepted && std::holds_alternative<protocol::Accepted>(*accepted)) << server.log();
  std::this_thread::sleep_for(300ms);  // the one-step prefill of 3000 tokens is running

  const auto signalled = std::chrono::steady_clock::now();
  const int rc = server.stop(120s);
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - signalled).count();
  EXPECT_EQ(rc, 0) << server.log();
  // Proof that the signal landed in a long step (the old rule gave up after 0.6 s).
  EXPECT_GT(took, 1.0) << "the step was too short to test anything";
  client::StreamOptions o;
  o.idle_timeout = 10s;
  auto r = client::collect_stream(c, id, o);
  ASSERT_TRUE(r.error.has_value()) << "expected an error reply";
  EXPECT_EQ(r.error->code, protocol::ErrorCode::kShuttingDown) << r.error->message;
  std::system(("rm -rf " + model).c_str());
}

}  // namespace
}  // namespace gossamer::testing

namespace gossamer::testing {
namespace {

// Every 2-rank layout from configs/test serves the same greedy tokens as `generate` on one
// rank, and stops cleanly (exit 0) on SIGTERM to rank 0.
TEST(ServiceCluster, TwoRankLayoutsServeTheOneRankGreedyTokens) {
  const std::vector<int32_t> prompt = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5};
  const std::string expected =
      shell(std::string(GOSSAMER_BINARY) + " --log-level warn generate --model " + tiny_model() +
            " --threads 1 --tokens 3,1,4,1,5,9,2,6,5,3,5 --max-tokens 12");
  const auto want = parse_ids(expected);
  ASSERT_EQ(want.size(), 12u) << expected;
  int salt = 20;
  for (const char* cfg : {"pp2-np2-allgather", "pp2-np2-alltoall", "dp2-ep2-np2-alltoall", "tp2-ep2-np2-allgather"}) {
    SCOPED_TRACE(cfg);
    ServerProcess server(2, kClusterArgs + " --config " + std::string(GOSSAMER_SOURCE_DIR) + "/configs/test/" + cfg + ".yaml",
                         salt++);
    ASSERT_TRUE(server.wait_healthy()) << server.log();
    client::Client c(server.endpoint());
    auto r = run_one(c, token_submit("g", prompt, 12));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.token_ids, want);
    EXPECT_EQ(server.stop(20s), 0) << server.log();
  }
}

}  // namespace
}  // namespace gossamer::testing
