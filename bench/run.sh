#!/bin/bash
# bench/run.sh: our runc vs Debian's runc and crun, side by side, with hyperfine.
# Prints a table of medians (ms) and our ratio to each. Not a test: no limits.
#   bench/run.sh [RUNS]          (as root; `make bench` builds first)
# crun 1.8 refuses hybrid cgroup hosts, so everything runs in a private mount
# namespace with /sys/fs/cgroup/unified unmounted, for all runtimes alike.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-30}
if [ -z "${BENCH_INNER:-}" ]; then
    for t in hyperfine runc crun python3; do command -v $t >/dev/null || { echo "bench: $t missing (apt-get install hyperfine runc crun python3)"; exit 1; }; done
    exec unshare -m env BENCH_INNER=1 "$0" "$@"
fi
mount --make-rprivate /
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi

work=$(mktemp -d /tmp/librunc-bench.XXXXXX)
trap 'for r in ours runc crun; do for c in $(ls $work/state-$r 2>/dev/null); do ${bin[$r]} --root $work/state-$r delete -f $c >/dev/null 2>&1 || true; done; done; rm -rf "$work"' EXIT
declare -A bin=([ours]="$here/target/release/runc" [runc]=/usr/sbin/runc [crun]=/usr/bin/crun)
RUNC="${bin[ours]}" sh "$here/scripts/make-bundle.sh" "$work/bundle" /bin/true >/dev/null
RUNC="${bin[ours]}" sh "$here/scripts/make-bundle.sh" "$work/sleeper" sleep 1000 >/dev/null
# crun 1.8 and runc 1.1 do not know spec 1.3.0; the config uses nothing newer.
sed -i 's/"ociVersion": "1.3.0"/"ociVersion": "1.0.2"/' "$work/bundle/config.json" "$work/sleeper/config.json"

hf() { # name, runtime, command, [prepare]
    local out="$work/$1-$2.json"
    local prep=()
    [ -n "${4:-}" ] && prep=(--prepare "$4")
    hyperfine -N -w 3 -r "$runs" "${prep[@]}" --export-json "$out" "$3" >/dev/null 2>&1 || echo "bench: $1 failed for $2" >&2
}

for r in ours runc crun; do
    R="${bin[$r]} --root $work/state-$r"
    B="--bundle $work/bundle"
    hf run "$r" "$R run $B b-run"
    hf create "$r" "$R create $B b-c" "sh -c '$R delete -f b-c'"
    hf start "$r" "$R start b-s" "sh -c '$R delete -f b-s; $R create $B b-s'"
    hf delete "$r" "$R delete -f b-d" "sh -c '$R create $B b-d'"
    $R delete -f b-s >/dev/null 2>&1 || true
    $R run -d --bundle "$work/sleeper" b-sleep >/dev/null 2>&1 </dev/null
    hf exec "$r" "$R exec b-sleep /bin/true"
    $R delete -f b-sleep >/dev/null 2>&1
    for i in $(seq 100); do $R create $B "many-$i" </dev/null >/dev/null 2>&1; done
    hf state "$r" "$R state many-1"
    hf list "$r" "$R list"
    for i in $(seq 100); do $R delete -f "many-$i" >/dev/null 2>&1; done
    for par in 2 8; do
        hyperfine -N -w 1 -r 3 --export-json "$work/par$par-$r.json" \
            "sh -c 'seq 100 | xargs -P $par -I{} $R run $B p$par-{}'" >/dev/null 2>&1 || echo "bench: par$par failed for $r" >&2
    done
done

python3 - "$work" <<'PY'
import json, sys, statistics
work = sys.argv[1]
rows = ["run", "create", "start", "delete", "exec", "state", "list"]
def med(name, r):
    try:
        return 1000 * json.load(open(f"{work}/{name}-{r}.json"))["results"][0]["median"]
    except Exception:
        return float("nan")
rows += ["par2", "par8"]
print(f"{'command':<8} {'ours ms':>9} {'runc ms':>9} {'crun ms':>9} {'ours/runc':>10} {'ours/crun':>10}")
for n in rows:
    o, r, c = med(n, "ours"), med(n, "runc"), med(n, "crun")
    print(f"{n:<8} {o:9.2f} {r:9.2f} {c:9.2f} {o/r:10.2f} {o/c:10.2f}")
print("(par2/par8: 100 runs, 2 or 8 at a time, the whole batch)")
PY
