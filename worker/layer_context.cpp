#include "worker/layer_context.h"

#include "comm/communicator.h"
#include "core/error.h"
#include "worker/mapping.h"

namespace gossamer::worker {

const char* moe_dispatch_name(MoeDispatch d) {
  return d == MoeDispatch::kAllGather ? "allgather" : "alltoall";
}

MoeDispatch parse_moe_dispatch(const std::string& name) {
  if (name == "allgather") return MoeDispatch::kAllGather;
  if (name == "alltoall") return MoeDispatch::kAllToAll;
  GOSSAMER_THROW(kInvalidArgument, "moe_dispatch: expected allgather or alltoall, got '{}'", name);
}

bool LayerContext::tp_split() const { return tp && tp->size() > 1; }
bool LayerContext::ep_split() const { return ep && ep->size() > 1; }

}  // namespace gossamer::worker
