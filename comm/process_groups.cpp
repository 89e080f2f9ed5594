#include "comm/process_groups.h"

namespace gossamer::comm {

ProcessGroups make_process_groups(Communicator& world, const GroupLayout& layout) {
  // The order of the splits is part of the protocol: every rank must make them alike.
  ProcessGroups g;
  g.tp = world.split(layout.tp.color, layout.tp.key, "tp");
  g.dp = world.split(layout.dp.color, layout.dp.key, "dp");
  g.pp = world.split(layout.pp.color, layout.pp.key, "pp");
  g.ep = world.split(layout.ep.color, layout.ep.key, "ep");
  return g;
}

}  // namespace gossamer::comm
