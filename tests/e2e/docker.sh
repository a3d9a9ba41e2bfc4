#!/bin/bash
# Real Docker (dockerd from Debian's docker.io, with its own containerd and
# the runc v2 shim) running containers through a runtime registered with
# --add-runtime. dockerd is started here with private data/exec roots and
# socket, no bridge and no iptables, and stopped by pid at the end.
#   tests/e2e/docker.sh [RUNTIME...]    (default: our target/debug/runc)
set -uo pipefail
E2E_HERE=$(cd "$(dirname "$0")/../.." && pwd)
. "$E2E_HERE/tests/e2e/lib.sh"
e2e_runtimes "$@"
command -v dockerd >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io >/dev/null; }

work=$(mktemp -d /tmp/librunc-e2e-docker.XXXXXX)
chmod 755 "$work"
args=()
for i in "${!RUNTIMES[@]}"; do args+=(--add-runtime "rt$i=${RUNTIMES[$i]}"); done
# This sandbox's hard RLIMIT_NOFILE is low and no runtime may raise it.
e2e_cgroup_parent docker
dockerd --data-root "$work/data" --exec-root "$work/exec" --pidfile "$work/dockerd.pid" -H "unix://$work/docker.sock" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false --storage-driver vfs \
    --default-ulimit nofile=1024:1024 "${args[@]}" >"$work/dockerd.log" 2>&1 &
daemon=$!
D=(docker -H "unix://$work/docker.sock")
cleanup() {
    for c in $("${D[@]}" ps -aq 2>/dev/null); do "${D[@]}" rm -f "$c" >/dev/null 2>&1; done
    kill "$daemon" 2>/dev/null; wait "$daemon" 2>/dev/null
    umount -R "$work/data" "$work/exec" 2>/dev/null
    e2e_cgroup_parent_cleanup
    rm -rf "$work"
}
trap cleanup EXIT
for _ in $(seq 100); do [ -S "$work/docker.sock" ] && "${D[@]}" version >/dev/null 2>&1 && break; sleep 0.2; done
e2e_image_tar "$work"
"${D[@]}" import "$work/img.tar" bb:e2e >/dev/null

SCENARIOS=(
  "run output (prestart hook)|[ \"\$(\$DR run --rm \$RT --network none \$IMG echo hello)\" = hello ]"
  "exit code|\$DR run --rm \$RT --network none \$IMG sh -c 'exit 3'; [ \$? = 3 ]"
  "stdin|[ \"\$(echo data | \$DR run -i --rm \$RT --network none \$IMG cat)\" = data ]"
  "env and workdir|[ \"\$(\$DR run --rm \$RT --network none -e A=b -w /tmp \$IMG sh -c 'echo \$A \$(pwd)')\" = 'b /tmp' ]"
  "tty|script -qec \"\$DR run --rm -t \$RT --network none \$IMG tty\" /dev/null </dev/null | grep -q /dev/pts/0"
  "user|[ \"\$(\$DR run --rm \$RT --network none --user 1000:1000 \$IMG id -u)\" = 1000 ]"
  "read-only|! \$DR run --rm \$RT --network none --read-only \$IMG touch /x 2>/dev/null"
  "cap-drop|! \$DR run --rm \$RT --network none --cap-drop ALL \$IMG chown 1 /tmp 2>/dev/null"
  "memory|[ \"\$(\$DR run --rm \$RT --network none --memory 64m \$IMG sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max')\" = 67108864 ]"
  "pids-limit|[ \"\$(\$DR run --rm \$RT --network none --pids-limit 50 \$IMG sh -c 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max')\" = 50 ]"
  "cpus|[ \"\$(\$DR run --rm \$RT --network none --cpus 0.5 \$IMG sh -c 'cat /sys/fs/cgroup/cpu/cpu.cfs_quota_us 2>/dev/null || cut -d\" \" -f1 /sys/fs/cgroup/cpu.max')\" = 50000 ]"
  "bind mounts|echo in > \$W/f && mkdir -p \$W/d && [ \"\$(\$DR run --rm \$RT --network none -v \$W/f:/etc/f:ro -v \$W/d:/data \$IMG sh -c 'cat /etc/f; echo out > /data/o') \$(cat \$W/d/o)\" = 'in out' ]"
  "tmpfs|\$DR run --rm \$RT --network none --tmpfs /scratch \$IMG sh -c 'grep -q \" /scratch tmpfs\" /proc/mounts'"
  "device|{ [ -e /dev/fuse ] || /bin/busybox modprobe fuse; } && \$DR run --rm \$RT --network none --device /dev/fuse \$IMG sh -c 'test -c /dev/fuse'"
  "run missing 127|\$DR run --rm \$RT --network none \$IMG /nope 2>/dev/null; [ \$? = 127 ]"
  "run not executable 126|\$DR run --rm \$RT --network none \$IMG /etc/passwd 2>/dev/null; [ \$? = 126 ]"
  "detached exec|\$DR run -d \$RT --name e1 --network none \$IMG sleep 100 >/dev/null && [ \"\$(\$DR exec e1 echo ok)\" = ok ] && \$DR rm -f e1 >/dev/null"
  "exec missing 126|\$DR run -d \$RT --name e2 --network none \$IMG sleep 100 >/dev/null; \$DR exec e2 /nope 2>/dev/null; rc=\$?; \$DR rm -f e2 >/dev/null; [ \$rc = 126 ] || [ \$rc = 127 ]"
  "pause unpause|\$DR run -d \$RT --name p1 --network none \$IMG sleep 100 >/dev/null && \$DR pause p1 >/dev/null && [ \"\$(\$DR inspect -f '{{.State.Status}}' p1)\" = paused ] && \$DR unpause p1 >/dev/null && \$DR rm -f p1 >/dev/null"
  "stop SIGTERM|\$DR run -d \$RT --name s1 --network none \$IMG sh -c 'trap \"exit 7\" TERM; while :; do sleep 0.1; done' >/dev/null && sleep 1 && \$DR stop -t 5 s1 >/dev/null && [ \"\$(\$DR inspect -f '{{.State.ExitCode}}' s1)\" = 7 ] && \$DR rm s1 >/dev/null"
  "stop SIGKILL fallback|\$DR run -d \$RT --name s2 --network none \$IMG sleep 100 >/dev/null && \$DR stop -t 1 s2 >/dev/null && [ \"\$(\$DR inspect -f '{{.State.ExitCode}}' s2)\" = 137 ] && \$DR rm s2 >/dev/null"
  "kill signal|\$DR run -d \$RT --name k1 --network none \$IMG sh -c 'trap \"exit 10\" USR1; while :; do sleep 0.1; done' >/dev/null && sleep 1 && \$DR kill -s USR1 k1 >/dev/null && [ \"\$(\$DR wait k1)\" = 10 ] && \$DR rm k1 >/dev/null"
  "restart exited|\$DR run \$RT --name r1 --network none \$IMG echo run >/dev/null && \$DR start -a r1 | grep -q run && \$DR rm r1 >/dev/null"
  "logs|\$DR run -d \$RT --name l1 --network none \$IMG echo logged >/dev/null && \$DR wait l1 >/dev/null && [ \"\$(\$DR logs l1)\" = logged ] && \$DR rm l1 >/dev/null"
  "exec with stdin|\$DR run -d \$RT --name i1 --network none \$IMG sleep 100 >/dev/null && o=\$(echo piped | \$DR exec -i i1 cat); \$DR rm -f i1 >/dev/null; [ \"\$o\" = piped ]"
  "exec with tty|\$DR run -d \$RT --name i2 --network none \$IMG sleep 100 >/dev/null && script -qec \"\$DR exec -t i2 tty\" /dev/null </dev/null | grep -q /dev/pts/; rc=\$?; \$DR rm -f i2 >/dev/null; [ \$rc = 0 ]"
  "cap-add|\$DR run --rm \$RT --network none --cap-drop ALL --cap-add CHOWN \$IMG chown 1 /tmp"
  "top|\$DR run -d \$RT --name t1 --network none \$IMG sleep 100 >/dev/null && \$DR top t1 | grep -q 'sleep 100'; rc=\$?; \$DR rm -f t1 >/dev/null; [ \$rc = 0 ]"
  "stats|\$DR run -d \$RT --name st1 --network none \$IMG sleep 100 >/dev/null && \$DR stats --no-stream st1 | grep -q st1; rc=\$?; \$DR rm -f st1 >/dev/null; [ \$rc = 0 ]"
  "update memory and pids|\$DR run -d \$RT --name u1 --network none --memory 64m \$IMG sleep 100 >/dev/null && \$DR update --memory 128m --memory-swap 256m --pids-limit 77 u1 >/dev/null && m=\$(\$DR exec u1 sh -c 'cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || cat /sys/fs/cgroup/memory.max') && p=\$(\$DR exec u1 sh -c 'cat /sys/fs/cgroup/pids/pids.max 2>/dev/null || cat /sys/fs/cgroup/pids.max'); \$DR rm -f u1 >/dev/null; [ \"\$m \$p\" = '134217728 77' ]"
)

setup() {
    local i
    for i in "${!RUNTIMES[@]}"; do [ "${RUNTIMES[$i]}" = "$1" ] && break; done
    export DR="${D[*]}" IMG=bb:e2e RT="--runtime rt$i"
}
e2e_run "$work" setup
