#pragma once
// Starts a real `gossamer serve` (alone or under mpirun) for a test, waits until it answers
// health, and always stops it: SIGTERM to rank 0, then SIGKILL of the whole process group
// after a deadline. Every wait is bounded.
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "client/client.h"

namespace gossamer::testing {

inline std::string tiny_model() { return std::string(GOSSAMER_TEST_DATA) + "/tiny/model"; }

class ServerProcess {
 public:
  // ranks == 0: plain `gossamer serve`; else mpirun -np ranks.
  ServerProcess(int ranks, const std::string& extra_args, int salt = 0)
      : pid_file_("/tmp/gossamer-svc-test-" + std::to_string(::getpid()) + "-" + std::to_string(salt) + ".pid"),
        log_file_(pid_file_ + ".log") {
    std::remove(pid_file_.c_str());
    std::string cmd;
    if (ranks > 0)
      cmd = std::string(GOSSAMER_MPIEXEC) + " --oversubscribe --bind-to none -np " + std::to_string(ranks) +
            " --mca btl_vader_single_copy_mechanism none ";
    std::remove((pid_file_ + ".endpoint").c_str());
    // Port 0 ("*"): the server picks a free port and writes the address to a file, so tests
    // running side by side never collide.
    cmd += std::string(GOSSAMER_BINARY) + " serve --endpoint 'tcp://127.0.0.1:*' --endpoint-file " + pid_file_ +
           ".endpoint --pid-file " + pid_file_ + " " + extra_args;
    child_ = ::fork();
    if (child_ == 0) {
      ::setpgid(0, 0);
      ::setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);
      ::setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
      ::setenv("OMPI_MCA_mpi_yield_when_idle", "1", 1);
      const std::string sh = "exec " + cmd + " > " + log_file_ + " 2>&1";
      ::execl("/bin/sh", "sh", "-c", sh.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    ::setpgid(child_, child_);
  }
  ~ServerProcess() { stop(std::chrono::seconds(15)); }

  const std::string& endpoint() const { return endpoint_; }  // known once wait_healthy() is true
  const std::string& pid_file() const { return pid_file_; }

  // Waits for a health reply; false after `deadline`.
  bool wait_healthy(std::chrono::seconds deadline = std::chrono::seconds(60)) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      if (exited()) return false;
      if (endpoint_.empty()) {
        std::ifstream f(pid_file_ + ".endpoint");
        if (!(f >> endpoint_)) {
          endpoint_.clear();
          std::this_thread::sleep_for(std::chrono::milliseconds(100));
          continue;
        }
      }
      try {
        client::Client c(endpoint_);
        c.health(std::chrono::milliseconds(500));
        return true;
      } catch (const std::exception&) {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    }
    return false;
  }

  int read_pid(const std::string& path) const {
    std::ifstream f(path);
    int pid = -1;
    f >> pid;
    return pid;
  }
  int rank0_pid() const { return read_pid(pid_file_); }
  int rank_pid(int rank) const { return rank == 0 ? rank0_pid() : read_pid(pid_file_ + ".rank" + std::to_string(rank)); }

  bool exited() {
    if (status_ >= 0) return true;
    int st = 0;
    if (::waitpid(child_, &st, WNOHANG) == child_) {
      status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
      return true;
    }
    return false;
  }
  // Waits for the job to end on its own; the exit code, or -1 on timeout.
  int wait_exit(std::chrono::seconds deadline) {
    const auto end = std::chrono::steady_clock::now() + deadline;
    while (std::chrono::steady_clock::now() < end) {
      if (exited()) return status_;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return -1;
  }
  // SIGTERM to rank 0 (a clean shutdown), SIGKILL to everything after `deadline`.
  int stop(std::chrono::seconds deadline) {
    if (exited()) return status_;
    const int pid = rank0_pid();
    if (pid > 0) ::kill(pid, SIGTERM);
    else ::kill(-child_, SIGTERM);
    const int rc = wait_exit(deadline);
    if (rc >= 0) return rc;
    ::kill(-child_, SIGKILL);
    return wait_exit(std::chrono::seconds(10));
  }
  std::string log() const {
    std::ifstream f(log_file_);
    return std::string(std::istreambuf_iterator<char>(f), {});
  }

 private:
  std::string pid_file_, log_file_, endpoint_;
  pid_t child_ = -1;
  int status_ = -1;
};

}  // namespace gossamer::testing
