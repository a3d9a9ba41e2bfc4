#!/bin/bash
# Real podman (with conmon) running containers through a runtime, with
# private storage, the cgroupfs manager and no network.
#   tests/e2e/podman.sh [RUNTIME...]    (default: our target/debug/runc)
# With two runtimes it runs every scenario against each and prints a table.
# Ends with "N passed, M failed" (counted for the first runtime).
set -uo pipefail
E2E_HERE=$(cd "$(dirname "$0")/../.." && pwd)
. "$E2E_HERE/tests/e2e/lib.sh"
e2e_runtimes "$@"
command -v podman >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null; }

work=$(mktemp -d /tmp/librunc-e2e-podman.XXXXXX)
# This sandbox's hard RLIMIT_NOFILE is below podman's default (1048576) and the
# runtimes lack CAP_SYS_RESOURCE to raise it: ask for limits that fit.
cat > "$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
CONF
export CONTAINERS_CONF="$work/containers.conf"
P=(podman --root "$work/root" --runroot "$work/runroot" --cgroup-manager cgroupfs --events-backend file --storage-driver vfs --tmpdir "$work/tmp")
e2e_cgroup_parent libpod_parent
cleanup() {
    for c in $("${P[@]}" ps -aq 2>/dev/null); do "${P[@]}" rm -f -t 0 "$c" >/dev/null 2>&1; done
    "${P[@]}" system reset -f >/dev/null 2>&1
    e2e_cgroup_parent_cleanup
    rm -rf "$work"
}
trap cleanup EXIT

# A busybox image from busybox-static, imported (no registry is reachable).
e2e_image_tar "$work"
"${P[@]}" import "$work/img.tar" localhost/bb:e2e >/dev/null

# Each scenario: name, then a shell snippet using $PM (podman --runtime R) and $IMG.
# It passes when the snippet exits 0.
SCENARIOS=(
  "run output|[ \"\$(\$PM run --rm --network none \$IMG echo hello)\" = hello ]"
  "exit code|\$PM run --rm --network none \$IMG sh -c 'exit 3'; [ \$? = 3 ]"
  "stdin|[ \"\$(echo data | \$PM run -i --rm --network none \$IMG cat)\" = data ]"
  "env and workdir|[ \"\$(\$PM run --rm --network none -e A=b -w /tmp \$IMG sh -c 'echo \$A \$(pwd)')\" = 'b /tmp' ]"
  "tty|script -qec \"\$PM run --rm -t --network none \$IMG tty\" /dev/null </dev/null | grep -q /dev/pts/0"
  "user|[ \"\$(\$PM run --rm --network none --user 1000:1000 \$IMG id -u)\" = 1000 ]"
  "read-only|! \$PM run --rm --network none --read-only \$IMG touch /x 2>/dev/null"
  "cap-drop|! \$PM run --rm --network none --cap-drop all \$IMG chown 1 /tmp 2>/dev/null"
  "cap-add|\$PM run --rm --network none --cap-drop all --cap-add CHOWN \$IMG chown 1 /tmp"
  "memory|[ \"\$(\$PM run --rm --network none --memory 64m \$IMG sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max')\" = 67108864 ]"
  "pids-limit|[ \"\$(\$PM run --rm --network none --pids-limit 50 \$IMG sh -c 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max')\" = 50 ]"
  "bind mounts|echo in > \$W/f && mkdir -p \$W/d && [ \"\$(\$PM run --rm --network none -v \$W/f:/etc/f:ro -v \$W/d:/data \$IMG sh -c 'cat /etc/f; echo out > /data/o') \$(cat \$W/d/o)\" = 'in out' ]"
  "tmpfs|\$PM run --rm --network none --tmpfs /scratch:size=1m \$IMG sh -c 'grep -q \" /scratch tmpfs\" /proc/mounts'"
  "preserve-fds|echo in > \$W/f && [ \"\$(\$PM run --rm --network none --preserve-fds 1 \$IMG sh -c 'cat <&3' 3<\$W/f)\" = in ]"
  "uidmap|[ \"\$(\$PM run --rm --network none --uidmap 0:100000:65536 --gidmap 0:100000:65536 \$IMG cat /proc/self/uid_map | tr -s ' ')\" = ' 0 100000 65536' ]"
  "detached exec|\$PM run -d --name e1 --network none \$IMG sleep 100 >/dev/null && [ \"\$(\$PM exec e1 echo ok)\" = ok ] && \$PM rm -f -t 0 e1 >/dev/null"
  "exec missing 127|\$PM run -d --name e2 --network none \$IMG sleep 100 >/dev/null; \$PM exec e2 /nope 2>/dev/null; rc=\$?; \$PM rm -f -t 0 e2 >/dev/null; [ \$rc = 127 ]"
  "exec not executable 126|\$PM run -d --name e3 --network none \$IMG sleep 100 >/dev/null; \$PM exec e3 /etc/passwd 2>/dev/null; rc=\$?; \$PM rm -f -t 0 e3 >/dev/null; [ \$rc = 126 ]"
  "run missing 127|\$PM run --rm --network none \$IMG /nope 2>/dev/null; [ \$? = 127 ]"
  "pause unpause|\$PM run -d --name p1 --network none \$IMG sleep 100 >/dev/null && \$PM pause p1 >/dev/null && [ \"\$(\$PM inspect -f '{{.State.Status}}' p1)\" = paused ] && \$PM unpause p1 >/dev/null && \$PM rm -f -t 0 p1 >/dev/null"
  "stop SIGTERM|\$PM run -d --name s1 --network none \$IMG sh -c 'trap \"exit 7\" TERM; while :; do sleep 0.1; done' >/dev/null && sleep 1 && \$PM stop -t 5 s1 >/dev/null && [ \"\$(\$PM inspect -f '{{.State.ExitCode}}' s1)\" = 7 ] && \$PM rm s1 >/dev/null"
  "stop SIGKILL fallback|\$PM run -d --name s2 --network none \$IMG sleep 100 >/dev/null && \$PM stop -t 1 s2 >/dev/null && [ \"\$(\$PM inspect -f '{{.State.ExitCode}}' s2)\" = 137 ] && \$PM rm s2 >/dev/null"
  "kill signal|\$PM run -d --name k1 --network none \$IMG sh -c 'trap \"exit 10\" USR1; while :; do sleep 0.1; done' >/dev/null && sleep 1 && \$PM kill -s USR1 k1 >/dev/null && [ \"\$(\$PM wait k1)\" = 10 ] && \$PM rm k1 >/dev/null"
  "start exited|\$PM run --name r1 --network none \$IMG sh -c 'echo run' >/dev/null && [ \"\$(\$PM start -a r1)\" = run ] && \$PM rm r1 >/dev/null"
  "logs|\$PM run -d --name l1 --network none \$IMG echo logged >/dev/null && \$PM wait l1 >/dev/null && [ \"\$(\$PM logs l1)\" = logged ] && \$PM rm l1 >/dev/null"
  "exec with stdin|\$PM run -d --name i1 --network none \$IMG sleep 100 >/dev/null && o=\$(echo piped | \$PM exec -i i1 cat); \$PM rm -f -t 0 i1 >/dev/null; [ \"\$o\" = piped ]"
  "exec with tty|\$PM run -d --name i2 --network none \$IMG sleep 100 >/dev/null && script -qec \"\$PM exec -t i2 tty\" /dev/null </dev/null | grep -q /dev/pts/; rc=\$?; \$PM rm -f -t 0 i2 >/dev/null; [ \$rc = 0 ]"
  "cpus|[ \"\$(\$PM run --rm --network none --cpus 0.5 \$IMG sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d\" \" -f1 /sys/fs/cgroup/cpu.max')\" = 50000 ]"
  "device|{ [ -e /dev/fuse ] || /bin/busybox modprobe fuse; } && \$PM run --rm --network none --device /dev/fuse \$IMG test -c /dev/fuse"
  "stats|\$PM run -d --name st1 --network none \$IMG sleep 100 >/dev/null && \$PM stats --no-stream st1 | grep -q st1; rc=\$?; \$PM rm -f -t 0 st1 >/dev/null; [ \$rc = 0 ]"
  "top|\$PM run -d --name t1 --network none \$IMG sleep 100 >/dev/null && \$PM top t1 | grep -q 'sleep 100'; rc=\$?; \$PM rm -f -t 0 t1 >/dev/null; [ \$rc = 0 ]"
)

setup() { export PM="${P[*]} --runtime $1" IMG=localhost/bb:e2e; }
e2e_run "$work" setup
