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
SlurmctldHost=$host
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
NodeName=$host CPUs=$CPUS RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP OverSubscribe=NO
CONF
  mv "$CONF.tmp" "$CONF"
}

running() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

up() {
  install
  if ! pgrep -x munged >/dev/null; then
    if [ ! -s /etc/munge/munge.key ]; then
      mungekey --create --keyfile=/etc/munge/munge.key 2>/dev/null || dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null
      chown munge:munge /etc/munge/munge.key; chmod 400 /etc/munge/munge.key
    fi
    mkdir -p /run/munge && chown munge:munge /run/munge
    runuser -u munge -- munged || munged --force
  fi
  write_conf
  export SLURM_CONF=$CONF
  running "$DIR/slurmctld.pid" || slurmctld -f "$CONF"
  running "$DIR/slurmd.pid" || slurmd -f "$CONF"
  local host; host=$(hostname -s)
  for _ in $(seq 1 60); do
    if sinfo -h -n "$host" -o '%t' 2>/dev/null | grep -qE '^(idle|mix|alloc)'; then
      say "up: $(sinfo -h -o '%P %D nodes %c cpus %t' | head -1) (SLURM_CONF=$CONF)"
      return 0
    fi
    scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
    sleep 0.5
  done
  say "the cluster did not come up; logs in $DIR/log:"
  tail -n 20 "$DIR/log/slurmctld.log" "$DIR/log/slurmd.log" >&2 || true
  exit 1
}

down() {
  export SLURM_CONF=$CONF
  [ -f "$CONF" ] && scancel --user="$(id -un)" >/dev/null 2>&1 || true
  for d in slurmd slurmctld; do
    if running "$DIR/$d.pid"; then kill "$(cat "$DIR/$d.pid")"; fi
  done
  say "down"
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) export SLURM_CONF=$CONF; sinfo; squeue ;;
  env) echo "export SLURM_CONF=$CONF" ;;
  *) echo "usage: tools/slurm.sh up|down|status|env" >&2; exit 2 ;;
esac
