#pragma once
// The service on world rank 0: the front door thread plus the step loop, which runs on the
// thread that initialized MPI (MPI_THREAD_FUNNELED: only this thread calls MPI). Each
// iteration drains the inbox (new requests, cancels, gone connections, stats), plans one
// step with the scheduler, runs it on every rank through the RankExecutor, and turns the
// sampled tokens into deltas and terminal replies. With no work it sends an idle plan at
// least once per heartbeat interval, so followers do not time out and a dead rank is found
// while idle too. Ranks other than 0 call worker::follow_steps().
#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>

#include "coordinator/front_door.h"
#include "coordinator/inbox.h"
#include "coordinator/scheduler.h"
#include "tokenizer/tokenizer.h"
#include "worker/rank_executor.h"

namespace gossamer::coordinator {

struct ServiceOptions {
  FrontDoorOptions front;
  SchedulerOptions scheduler;
  int max_queue = 256;             // waiting requests; beyond: `overloaded`
  int max_context = 4096;          // tokens per sequence; reaching it ends with "context"
  std::chrono::milliseconds heartbeat{1000};  // longest gap between two plans
};

class Service {
 public:
  Service(worker::RankExecutor& executor, const Tokenizer& tokenizer, const ServiceOptions& options);
  ~Service();

  // Serves until `stop` becomes true (then: in-flight requests end with `shutting_down`,
  // followers get kShutdown, returns). When a step fails (a rank died or timed out) every
  // in-flight request gets `rank_failure`, the replies are flushed, and the Error is
  // rethrown for the app to end the job (MpiRuntime::abort).
  void run(const std::atomic<bool>& stop);

 private:
  struct Loop;
  worker::RankExecutor& executor_;
  Tokenizer tokenizer_;
  ServiceOptions options_;
};

}  // namespace gossamer::coordinator
