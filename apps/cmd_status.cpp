// gossamer status: ask a running server for health and stats (JSON), optionally waiting for
// it to come up — what scripts use before they submit.
#include <chrono>
#include <cstdio>
#include <thread>

#include "apps/commands.h"
#include "client/client.h"
#include "protocol/encode.h"

namespace gossamer::apps {

void add_status_command(CLI::App& app) {
  auto endpoint = std::make_shared<std::string>("tcp://127.0.0.1:5555");
  auto wait_s = std::make_shared<double>(0);
  auto* cmd = app.add_subcommand("status", "Health and stats of a running server, as JSON");
  cmd->add_option("--endpoint", *endpoint, "Server address")->capture_default_str();
  cmd->add_option("--wait", *wait_s, "Keep trying this many seconds until the server answers");
  cmd->callback([=] {
    using namespace std::chrono;
    const auto end = steady_clock::now() + duration_cast<steady_clock::duration>(duration<double>(*wait_s));
    for (;;) {
      try {
        client::Client c(*endpoint);
        auto h = c.health(milliseconds(1000));
        auto s = c.stats(milliseconds(5000));
        nlohmann::json j = {{"health", protocol::to_json(protocol::ServerMessage(h))},
                            {"stats", protocol::to_json(protocol::ServerMessage(s))}};
        std::printf("%s\n", j.dump(2).c_str());
        return;
      } catch (const std::exception& e) {
        if (steady_clock::now() >= end) {
          std::fprintf(stderr, "status: %s: %s\n", endpoint->c_str(), e.what());
          throw CLI::RuntimeError(2);
        }
        std::this_thread::sleep_for(milliseconds(200));
      }
    }
  });
}

}  // namespace gossamer::apps
