#!/bin/bash
# Cargo's runner for the pure cgroup v2 tests: runs one test binary in a VM
# (../shared/vm/run-in-vm) under a watchdog that, if the binary stalls,
# prints what every process is blocked in before stopping it. A VM that
# freezes or never boots (no status from the guest at all: the emulator, not a
# test) is booted once more; a test that fails is never retried.
#   usage: vm-test.sh VM SECS TESTBIN [ARGS...]
set -u
vm=$1 secs=$2; shift 2
if [[ ${RUNC_IN_VM:-} == 1 ]]; then
  # In the guest: run the binary, dump and stop it if it outlives SECS.
  dmesg -n 7 2>/dev/null; echo 60 2>/dev/null >/proc/sys/kernel/hung_task_timeout_secs
  me=$(basename "$1" | cut -c1-10)   # its comm, as /proc/*/stat shows it
  "$@" & pid=$!
  ( trap 'kill $s; exit' TERM; sleep "$secs" & s=$!; wait $s
    echo "vm-test: $1 still running after ${secs}s; blocked tasks:" >&2
    for t in /proc/[0-9]*/task/[0-9]*; do
      read -r _ comm st _ <"$t/stat" 2>/dev/null || continue
      [[ $st == D || $comm == *runc* || $comm == *$me* ]] || continue
      echo "  ${t#/proc/} $comm $st $(cat "$t/wchan" 2>/dev/null) $(tr '\0' ' ' <"${t%/task/*}/cmdline" 2>/dev/null | cut -c1-120)" >&2
      [[ $st == D ]] && sed 's/^/      /' "$t/stack" >&2 2>/dev/null
    done
    kill -9 "$pid" ) &
  dog=$!
  wait "$pid"; rc=$?
  kill "$dog" 2>/dev/null
  exit "$rc"
fi
err=$(mktemp); trap 'rm -f "$err"' EXIT
for try in 1 2; do
  RUNC_IN_VM=1 "$vm" -e RUNC_IN_VM ${RUNC_BIN:+-e RUNC_BIN} --timeout $((secs + 60)) -- "$0" "$vm" "$secs" "$@" 2> >(tee "$err" >&2)
  rc=$?
  wait
  # run-in-vm's words for a guest that never reported (not a test's failure)
  grep -qE "did not finish within the hard limit|did not reach its init" "$err" || exit "$rc"
  [[ $try == 1 ]] && echo "vm-test: the VM froze or never booted (no status from the guest); booting it once more" >&2
done
exit "$rc"
