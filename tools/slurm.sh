#!/usr/bin/env bash
# tools/slurm.sh up|down|status|env: a single-node Slurm cluster on this machine
# for bohost's tests and demos (Debian's slurm-wlm and munge, as a real cluster
# runs them): munged + slurmctld + slurmd, select/cons_tres, jobcomp/filetxt,
# no slurmdbd. `make slurm-up` / `make slurm-down` call it.
#
# Everything of the cluster lives in $BOHOST_SLURM_DIR (default
# /var/tmp/bohost-slurm): slurm.conf, state, spool, logs and the job-completion
# file. A system Slurm configuration (/etc/slurm/slurm.conf) is never touched:
# clients reach this cluster through SLURM_CONF, which `eval "$(tools/slurm.sh env)"`
# sets (bohost's Slurm tests find the file by themselves).
set -euo pipefail
DIR=${BOHOST_SLURM_DIR:-/var/tmp/bohost-slurm}
CONF=$DIR/slurm.conf
# The node advertises more CPUs than the machine has (config_overrides), so a
# 2-core CI machine can hold a sweep's array elements and their worker steps
# at once; Slurm schedules them, the kernel shares the cores.
CPUS=${BOHOST_SLURM_CPUS:-8}

say() { echo "slurm.sh: $*" >&2; }

install() {
  if command -v slurmctld >/dev/null && command -v slurmd >/dev/null && command -v munged >/dev/null && command -v sbatch >/dev/null; then
    return
  fi
  if [ "$(id -u)" != 0 ]; then
    say "slurm-wlm and munge are missing and installing them needs root: apt-get install slurm-wlm munge"
    exit 1
  fi
  say "installing Debian's slurm-wlm and munge"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge >"${TMPDIR:-/tmp}/bohost-slurm-apt.log" 2>&1 || {
    apt-get update -q >/dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q slurm-wlm munge
  }
}

write_conf() {
  local host mem
  host=$(hostname -s)
  mem=$(awk '/MemTotal/ {printf "%d", $2/1024*0.8}' /proc/meminfo)
  mkdir -p "$DIR/state" "$DIR/spool" "$DIR/log"
  cat >"$CONF.tmp" <<CONF
# written by bohost's tools/slurm.sh: a single-node test cluster
ClusterName=bohost
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=6917
SlurmdPort=6918
AuthType=auth/munge
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$DIR/state
SlurmdSpoolDir=$DIR/spool
SlurmctldPidFile=$DIR/slurmctld.pid
SlurmdPidFile=$DIR/slurmd.pid
SlurmctldLogFile=$DIR/log/slurmctld.log
SlurmdLogFile=$DIR/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
SlurmdParameters=config_overrides
JobCompType=jobcomp/filetxt
JobCompLoc=$DIR/jobcomp.log
JobAcctGatherType=jobacct_gather/linux
JobAcctGatherFrequency=task=1
JobAcctGatherParams=OverMemoryKill
MpiDefault=none
ReturnToService=2
SchedulerParameters=sched_interval=1
SchedulerType=sched/backfill
KillWait=5
InactiveLimit=0
MinJobAge=300
MaxArraySize=10001
DefMemPerCPU=1024
NodeName=$host NodeAddr=127.0.0.1 NodeHostname=$host CPUs=$CPUS RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  mv "$CONF.tmp" "$CONF"
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

munge_ok() { munge -n 2>/dev/null | unmunge >/dev/null 2>&1; }

start_munge() {
  munge_ok && return 0
  if [ ! -s /etc/munge/munge.key ]; then
    mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
    chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
  fi
  mkdir -p /run/munge && chown munge:munge /run/munge
  # a munged that is stopping, or a stale socket, must not stop this one
  for _ in $(seq 1 20); do pgrep -x munged >/dev/null || break; sleep 0.25; done
  runuser -u munge -- munged --force 2>/dev/null || munged --force
  for _ in $(seq 1 40); do munge_ok && return 0; sleep 0.25; done
  say "munged does not answer (munge -n | unmunge fails)"; exit 1
}

node_up() { timeout 5 sinfo -h -n "$1" -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; }

up() {
  install
  start_munge
  write_conf
  export SLURM_CONF=$CONF
  running "$DIR/slurmctld.pid" || slurmctld -f "$CONF"
  running "$DIR/slurmd.pid" || slurmd -f "$CONF"
  local host; host=$(hostname -s)
  for i in $(seq 1 120); do
    if node_up "$host"; then
      say "up: $(timeout 5 sinfo -h -o '%P %D nodes %c cpus %t' | head -1) (SLURM_CONF=$CONF)"
      return 0
    fi
    # a node that registered before munge answered, or after a crash, is told to come back
    scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    if [ "$i" = 20 ]; then # slurmd retries registration slowly: restart it once
      running "$DIR/slurmd.pid" && kill "$(cat "$DIR/slurmd.pid")" && sleep 1
      slurmd -f "$CONF"
    fi
    sleep 0.5
  done
  say "the cluster did not come up; logs in $DIR/log:"
  tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
  exit 1
}

down() {
  export SLURM_CONF=$CONF
  [ -f "$CONF" ] && timeout 10 scancel --user="$(id -un)" >/dev/null 2>&1 || true
  for d in slurmd slurmctld; do
    if running "$DIR/$d.pid"; then
      local pid; pid=$(cat "$DIR/$d.pid")
      kill "$pid"
      for _ in $(seq 1 40); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
    fi
  done
  # any daemon of this cluster left without a pid file (a start that failed half-way)
  pkill -KILL -f "^slurm(ctld|d) -f $CONF\$" 2>/dev/null || true
  say "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) export SLURM_CONF=$CONF; sinfo; squeue ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: tools/slurm.sh up|down|status|env" >&2; exit 2 ;;
esac
