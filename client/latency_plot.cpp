#include "client/latency_plot.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "core/error.h"

extern char** environ;

namespace gossamer::client {
namespace {

// gnuplot draws a few thousand points in well under a second; anything longer is stuck.
constexpr auto kGnuplotTimeout = std::chrono::seconds(60);

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

void write_data(const LoadgenReport& r, const std::string& path) {
  std::ofstream out(path);
  out << "# sent_s ttft_ms e2e_ms mean_itl_ms  (completed requests, by send time)\n";
  for (const RequestRecord& q : r.requests) {
    if (q.status != "ok") continue;
    double itl = 0;
    for (double x : q.itl_ms) itl += x;
    if (!q.itl_ms.empty()) itl /= static_cast<double>(q.itl_ms.size());
    const double ttft = q.first_token_s >= 0 ? (q.first_token_s - q.sent_s) * 1e3 : 0;
    out << q.sent_s << " " << ttft << " " << (q.end_s - q.sent_s) * 1e3 << " " << itl << "\n";
  }
  if (!out) GOSSAMER_THROW(kIo, "cannot write plot data {}", path);
}

void write_script(const LoadgenReport& r, const std::string& png, const std::string& dat,
                  const std::string& path) {
  std::ofstream out(path);
  out << "set terminal pngcairo size 1200,800 noenhanced font ',10'\n"
      << "set output '" << png << "'\n"
      << "set multiplot layout 2,1 title 'gossamer loadgen: " << r.options.requests
      << " requests, concurrency " << r.options.concurrency << ", "
      << r.requests_per_s << " req/s'\n"
      << "set grid\nset key top left\nset xlabel 'request sent at (s since start)'\n"
      << "set ylabel 'latency (ms)'\n"
      << "plot '" << dat << "' using 1:3 with points pt 7 ps 0.4 title 'end-to-end', \\\n"
      << "     '' using 1:2 with points pt 7 ps 0.4 title 'time to first token'\n"
      << "set ylabel 'ms per token'\n"
      << "plot '" << dat << "' using 1:4 with points pt 7 ps 0.4 title 'mean inter-token latency'\n"
      << "unset multiplot\n";
  if (!out) GOSSAMER_THROW(kIo, "cannot write gnuplot script {}", path);
}

// Runs `gnuplot script` with stderr to `log`; waits at most kGnuplotTimeout.
void run_gnuplot(const std::string& script, const std::string& log) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::string prog = "gnuplot";
  char* argv[] = {prog.data(), const_cast<char*>(script.c_str()), nullptr};
  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, "gnuplot", &actions, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc == ENOENT)
    GOSSAMER_THROW(kNotFound, "gnuplot is not installed (Debian: apt-get install gnuplot-nox); "
                              "no latency plot was written");
  if (rc != 0) GOSSAMER_THROW(kIo, "cannot start gnuplot: {}", std::strerror(rc));
  const auto deadline = std::chrono::steady_clock::now() + kGnuplotTimeout;
  int status = 0;
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);  // our own child, by pid
      waitpid(pid, &status, 0);
      GOSSAMER_THROW(kIo, "gnuplot did not finish within 60 s");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    GOSSAMER_THROW(kIo, "gnuplot failed: {}", read_file(log));
}

}  // namespace

bool has_png_signature(const std::string& path) {
  static const unsigned char kSig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  std::ifstream in(path, std::ios::binary);
  unsigned char head[8] = {};
  if (!in.read(reinterpret_cast<char*>(head), 8)) return false;
  return std::equal(head, head + 8, kSig);
}

void write_latency_plot(const LoadgenReport& report, const std::string& png_path) {
  // gnuplot strings are single-quoted; a quote or newline in a path would break the script.
  if (png_path.find_first_of("'\n") != std::string::npos)
    GOSSAMER_THROW(kInvalidArgument, "plot path '{}' contains a quote or newline", png_path);
  if (report.accounting.ok == 0)
    GOSSAMER_THROW(kInvalidArgument, "no completed requests to plot");
  const std::string dat = png_path + ".dat", gp = png_path + ".gp", log = png_path + ".log";
  write_data(report, dat);
  write_script(report, png_path, dat, gp);
  std::remove(png_path.c_str());  // so a stale PNG can never pass the check below
  run_gnuplot(gp, log);
  if (!has_png_signature(png_path))
    GOSSAMER_THROW(kIo, "gnuplot wrote no valid PNG at {}: {}", png_path, read_file(log));
}

}  // namespace gossamer::client
