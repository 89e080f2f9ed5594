#pragma once
// The service's step planner: worker::StepPlanner (continuous batching over the paged KV
// pools, the same planner the offline Engine uses) over the service's Requests.
//
// Thread-safety: none; the step thread owns it.
#include <memory>
#include <string>

#include "coordinator/request.h"
#include "worker/step_planner.h"

namespace gossamer::coordinator {

using SchedulerOptions = worker::StepPlannerOptions;
using Scheduler = worker::StepPlanner<Request>;

// Removes the request `id` of `connection` (waiting or running) and frees its blocks; null
// when it is not there.
inline std::unique_ptr<Request> remove_request(Scheduler& s, const std::string& connection, const std::string& id) {
  return s.remove_if([&](const Request& r) { return r.connection == connection && r.id == id; });
}

}  // namespace gossamer::coordinator
