#!/usr/bin/env bash
# launch/netns_two_hosts.sh: a real two-host MPI run on one machine. Two network
# namespaces ("nodea" 10.77.0.1, "nodeb" 10.77.0.2) joined by a veth pair; mpirun starts in
# nodea and launches nodeb's daemon through an rsh agent that enters nodeb's namespace,
# like ssh would. Ranks on different "hosts" talk over TCP on the veth, never over shared
# memory, exactly as across machines.
#
#   launch/netns_two_hosts.sh [--ranks-per-host N] COMMAND [ARGS...]
#   launch/netns_two_hosts.sh build/tests/comm/mpi/test_comm_mpi collectives
#   launch/netns_two_hosts.sh --shell SCRIPT [ARGS...]
#
# --shell runs SCRIPT itself on nodea (not under mpirun), with GOSSAMER_MPIRUN_ARGS holding
# the mpirun options for the two hosts, shell-quoted (eval "args=($GOSSAMER_MPIRUN_ARGS)"),
# so a script can start a job across the hosts and talk to rank 0 from nodea, as a client
# on the first host would.
#
# Needs root (CAP_SYS_ADMIN + CAP_NET_ADMIN) and unshare/ip (util-linux, iproute2).
# Everything lives in a private network + mount namespace created for this run: no
# interface, namespace or mount is left on the machine. Exits 77 (ctest "skipped") when the
# machine does not allow it, with the reason.
set -euo pipefail

self=$(readlink -f "$0")

# ---- rsh agent mode: "netns_two_hosts.sh --rsh HOST CMD..." (what mpirun calls) -------
if [ "${1:-}" = "--rsh" ]; then
  host=$2; shift 2
  case "$host" in
    10.77.0.1|nodea) ns=gossamer-a; name=nodea ;;
    10.77.0.2|nodeb) ns=gossamer-b; name=nodeb ;;
    *) echo "netns_two_hosts: unknown host $host" >&2; exit 1 ;;
  esac
  # A UTS namespace per host so each daemon reports its own host name to mpirun.
  exec ip netns exec "$ns" unshare --uts sh -c "hostname $name; $*"
fi

per_host=2
shell_mode=""
if [ "${1:-}" = "--ranks-per-host" ]; then per_host=$2; shift 2; fi
if [ "${1:-}" = "--shell" ]; then shell_mode=1; shift; fi
if [ $# -eq 0 ]; then
  echo "usage: launch/netns_two_hosts.sh [--ranks-per-host N] COMMAND [ARGS...]" >&2
  exit 2
fi

# ---- outer mode: re-enter in private namespaces -------------------------------------------
if [ -z "${GOSSAMER_NETNS_INNER:-}" ]; then
  if [ "$(id -u)" -ne 0 ]; then echo "netns_two_hosts: skipped: needs root" >&2; exit 77; fi
  for tool in unshare ip mpirun; do
    command -v "$tool" >/dev/null || { echo "netns_two_hosts: skipped: no $tool" >&2; exit 77; }
  done
  if ! unshare --net --mount true 2>/dev/null; then
    echo "netns_two_hosts: skipped: this machine does not allow new network namespaces" >&2
    exit 77
  fi
  GOSSAMER_NETNS_INNER=1 exec unshare --net --mount --propagation private "$self" \
    --ranks-per-host "$per_host" ${shell_mode:+--shell} "$@"
fi

# ---- inner mode: build the two hosts, then run mpirun from nodea --------------------------
mount -t tmpfs none /run  # `ip netns` keeps its handles in /run/netns: private to this run
ip netns add gossamer-a
ip netns add gossamer-b
ip link add veth-a type veth peer name veth-b
ip link set veth-a netns gossamer-a
ip link set veth-b netns gossamer-b
ip -n gossamer-a addr add 10.77.0.1/24 dev veth-a
ip -n gossamer-b addr add 10.77.0.2/24 dev veth-b
for ns in gossamer-a gossamer-b; do ip -n "$ns" link set lo up; done
ip -n gossamer-a link set veth-a up
ip -n gossamer-b link set veth-b up

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
np=$((2 * per_host))
mpirun_args=(--host "10.77.0.1:$per_host,10.77.0.2:$per_host" -np "$np"
  --mca plm_rsh_agent "$self --rsh"
  --mca btl self,vader,tcp --mca btl_tcp_if_include 10.77.0.0/24
  --mca oob_tcp_if_include 10.77.0.0/24 --mca btl_vader_single_copy_mechanism none
  --oversubscribe --bind-to none --mca mpi_yield_when_idle 1)
echo "netns_two_hosts: $np ranks, $per_host on nodea (10.77.0.1) and $per_host on nodeb (10.77.0.2)"
# Which rank runs where, for the log (ranks 0..per_host-1 on nodea).
ip netns exec gossamer-a unshare --uts sh -c \
  "hostname nodea; mpirun ${mpirun_args[*]@Q} --tag-output hostname" | sort
if [ -n "$shell_mode" ]; then
  GOSSAMER_MPIRUN_ARGS="${mpirun_args[*]@Q}" exec ip netns exec gossamer-a unshare --uts \
    sh -c 'hostname nodea; exec "$@"' sh "$@"
fi
exec ip netns exec gossamer-a unshare --uts sh -c \
  "hostname nodea; exec mpirun ${mpirun_args[*]@Q} ${*@Q}"
