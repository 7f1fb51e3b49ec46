#!/usr/bin/env bash
# A single-node Slurm cluster on this machine, for the `--engine slurm` tests and for trying the engine out.
#
#   scripts/slurm-local.sh up       install slurm-wlm + munge (Debian) if missing, write the configuration,
#                                   start munged, slurmctld and slurmd, wait until the node is idle
#   scripts/slurm-local.sh down     stop the three daemons started by 'up' (by their pid files)
#   scripts/slurm-local.sh status   print whether the cluster answers, and sinfo
#
# Made for containers and CI machines: no systemd (the daemons are started directly), run as root, one node
# called 'localhost' with this machine's CPUs and memory, all traffic over 127.0.0.1 (slurmd binds to it
# alone; slurmctld 22.05 cannot be bound and listens on port 6817 of every interface, munge-authenticated
# with this machine's own random key). Idempotent:
# 'up' on a running cluster only checks it; 'down' on a stopped one does nothing.
#
# Files: /etc/slurm/slurm.conf (written only if absent or written by this script before: a real cluster's
# configuration is never touched), state, logs and pid files under $SLURM_LOCAL_DIR (default /var/tmp/slurm-local).
set -euo pipefail

DIR="${SLURM_LOCAL_DIR:-/var/tmp/slurm-local}"
CONF=/etc/slurm/slurm.conf
MARK='# written by scripts/slurm-local.sh'
NODE=localhost

say() { echo "slurm-local: $*" >&2; }
die() { say "$*"; exit 1; }

need_root() { [ "$(id -u)" = 0 ] || die "must run as root (it installs packages and starts the Slurm daemons)"; }

install_packages() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v sbatch >/dev/null && command -v munged >/dev/null; then
    return
  fi
  say "installing slurm-wlm and munge (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get -o DPkg::Lock::Timeout=600 update -qq || say "apt-get update failed (trying the install anyway)"
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq slurm-wlm munge >/dev/null || die "apt-get install slurm-wlm munge failed"
}

write_conf() {
  if [ -f "$CONF" ] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and was not written by this script: refusing to replace a real cluster's configuration"
  fi
  local cpus mem_mb ctl
  cpus=$(nproc)
  # slurmd refuses a node announcing more memory than it has: leave 5% for the daemons and rounding
  mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.95 }' /proc/meminfo)
  # slurmctld only runs on the host named by SlurmctldHost; the address in parentheses keeps it on loopback
  ctl="$(hostname -s)"
  mkdir -p /etc/slurm "$DIR"/{ctld,d,log}
  cat >"$CONF.tmp" <<EOF
$MARK (single node, loopback only)
ClusterName=lsstlocal
SlurmctldHost=$ctl(127.0.0.1)
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CommunicationParameters=NoInAddrAny
StateSaveLocation=$DIR/ctld
SlurmdSpoolDir=$DIR/d
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU_Memory
DefMemPerCPU=512
MaxArraySize=100001
ReturnToService=2
SlurmctldTimeout=10
SlurmdTimeout=10
MessageTimeout=5
InactiveLimit=0
KillWait=2
MinJobAge=60
Waittime=0
NodeName=$NODE NodeAddr=127.0.0.1 NodeHostname=$NODE CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=local Nodes=$NODE Default=YES MaxTime=INFINITE State=UP
EOF
  mv "$CONF.tmp" "$CONF"
}

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_munge() {
  if [ -f /run/munge/munged.pid ] && alive /run/munge/munged.pid; then return; fi
  mkdir -p /etc/munge /run/munge /var/lib/munge /var/log/munge
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 status=none
  fi
  chown -R munge:munge /etc/munge /run/munge /var/lib/munge /var/log/munge
  chmod 0700 /etc/munge && chmod 0400 /etc/munge/munge.key && chmod 0755 /run/munge
  runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid || die "munged did not start"
  for _ in $(seq 50); do munge -n </dev/null >/dev/null 2>&1 && return; sleep 0.1; done
  die "munged does not answer (see /var/log/munge/munged.log)"
}

node_state() { sinfo -h -n "$NODE" -o %T 2>/dev/null | head -1 | tr -d '*~#' || true; }

up() {
  need_root
  install_packages
  write_conf
  start_munge
  alive "$DIR/slurmctld.pid" || { slurmctld -i || die "slurmctld did not start (see $DIR/log/slurmctld.log)"; }
  alive "$DIR/slurmd.pid" || { slurmd -N "$NODE" || die "slurmd did not start (see $DIR/log/slurmd.log)"; }
  local st=''
  for i in $(seq 120); do
    st=$(node_state)
    case "$st" in
      idle | mixed | allocated | completing) say "node $NODE is $st: the cluster is up (sinfo, sbatch, squeue work)"; return 0 ;;
      down | drained | draining | fail)
        # a node left down by an earlier run: ReturnToService=2 covers most cases, this the rest
        [ $((i % 10)) = 1 ] && scontrol update NodeName="$NODE" State=RESUME >/dev/null 2>&1 || true ;;
    esac
    sleep 0.5
  done
  die "the node did not become idle (state '${st:-no answer}'); see $DIR/log/"
}

stop_pid() {
  local f=$1 name=$2
  if alive "$f"; then
    local pid
    pid=$(cat "$f")
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    say "stopped $name ($pid)"
  fi
  rm -f "$f"
}

down() {
  need_root
  stop_pid "$DIR/slurmd.pid" slurmd
  stop_pid "$DIR/slurmctld.pid" slurmctld
  stop_pid /run/munge/munged.pid munged
}

status() {
  if sinfo >/dev/null 2>&1; then
    say "up"
    sinfo
  else
    say "down (sinfo does not answer)"
    return 1
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) status ;;
  *) echo "usage: $0 up|down|status" >&2; exit 2 ;;
esac
