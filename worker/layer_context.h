#pragma once
// What every layer of one forward step shares: where kernels run, the model's constants,
// this rank's process groups (null = not split, no collective) and the dump sink.
#include "kernels/exec.h"
#include "model/config.h"
#include "worker/dump.h"

namespace gossamer::comm {
class Communicator;
}

namespace gossamer::worker {

struct LayerContext {
  kernels::Exec exec;
  const model::ModelConfig* config = nullptr;
  comm::Communicator* tp = nullptr;  // attention heads / vocab split; null at tp = 1
  comm::Communicator* ep = nullptr;  // experts split; null at ep = 1
  DumpSink* dump = nullptr;
};

}  // namespace gossamer::worker
