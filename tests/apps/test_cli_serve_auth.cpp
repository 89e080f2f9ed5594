// `serve` refuses a front-door endpoint that other machines can reach when it has no
// authentication (no CURVE keys): the error names both ways out. With --insecure (or
// server.insecure: true) it starts and warns instead; loopback endpoints need neither.
#include <gtest/gtest.h>

#include <string>

#include "cli_runner.h"

namespace gossamer::testing {
namespace {

const std::string kTiny = std::string(GOSSAMER_TEST_DATA) + "/tiny/model";

TEST(CliServeAuth, NetworkEndpointWithoutCurveIsRefused) {
  auto r = run_gossamer("serve --model " + kTiny + " --threads 1 --endpoint 'tcp://0.0.0.0:*'");
  EXPECT_NE(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("refusing to listen on tcp://0.0.0.0:* without authentication"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("curve_secret_key_file"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("--insecure"), std::string::npos) << r.output;
}

TEST(CliServeAuth, InsecureStartsWithAWarning) {
  const std::string dir = temp_dir("serve-insecure");
  // The server runs until `timeout` stops it (SIGTERM: a clean stop) once it is serving.
  auto r = run_gossamer("serve --model " + kTiny + " --threads 1 --insecure --endpoint 'tcp://0.0.0.0:*' "
                        "--endpoint-file " + dir + "/ep > " + dir + "/log 2>&1 & pid=$!; "
                        "for i in $(seq 1 300); do [ -s " + dir + "/ep ] && break; sleep 0.1; done; "
                        "kill -TERM $pid; wait $pid; echo exit=$?; cat " + dir + "/log");
  EXPECT_NE(r.output.find("reachable from other machines and has no authentication"), std::string::npos)
      << r.output;
  EXPECT_NE(r.output.find("serving on tcp://0.0.0.0:"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("exit=0"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace gossamer::testing
