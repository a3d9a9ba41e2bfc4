#!/bin/bash
# bench/run.sh: our runc vs Debian's runc and crun, side by side, with hyperfine.
# Prints a table of medians (ms) and our ratio to each, writes it with a plot
# to bench/results/latest-<cgroup mode>.{txt,svg}. Not a test: no limits.
#   bench/run.sh [RUNS]     (as root; `make bench` builds first)
# Ours is $RUNC_BIN (default: the static build, else target/release/runc).
# BENCH_RUNTIMES (default "ours runc crun") and BENCH_PAR (default "2 8",
# empty to skip the batches) trim it, e.g. for the slow VM; BENCH_ROUNDS
# (default 3) splits each row's RUNS into rounds (below).
# On a hybrid host crun 1.8 refuses to run, so everything runs in a private
# mount namespace with /sys/fs/cgroup/unified unmounted, for all alike.
# BENCH_CGROUP=v2 there mounts the host's cgroup2 over /sys/fs/cgroup
# instead: this hardware in pure v2 mode, beside the VM's emulated one
# (results in latest-v2-host.*); the controllers the runtimes enable in its
# root are switched off again at exit.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
runs=${1:-30}
if [ -z "${BENCH_INNER:-}" ]; then
    for t in hyperfine runc crun python3 gcc; do command -v $t >/dev/null || { echo "bench: $t missing (apt-get install hyperfine runc crun python3 gcc)"; exit 1; }; done
    exec unshare -m env BENCH_INNER=1 "$0" "$@"
fi
mount --make-rprivate /
if mountpoint -q /sys/fs/cgroup/unified; then umount /sys/fs/cgroup/unified; fi
mode=$([ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && echo v2 || echo v1)
controllers_before=
if [ "${BENCH_CGROUP:-}" = v2 ] && [ $mode = v1 ]; then
    mount -t cgroup2 librunc-bench /sys/fs/cgroup
    mode=v2-host
    controllers_before=$(cat /sys/fs/cgroup/cgroup.subtree_control)
fi
# Switches off what the runtimes enabled in the mounted root (v2-host only).
restore_controllers() {
    [ $mode = v2-host ] || return 0
    for c in $(cat /sys/fs/cgroup/cgroup.subtree_control); do
        case " $controllers_before " in *" $c "*) ;; *) echo "-$c" > /sys/fs/cgroup/cgroup.subtree_control || echo "bench: could not switch $c off again" >&2 ;; esac
    done
}

ours=${RUNC_BIN:-}
if [ -z "$ours" ]; then
    ours=$(ls "$here"/target/*-unknown-linux-musl/release/runc 2>/dev/null | head -1)
    [ -n "$ours" ] || ours="$here/target/release/runc"
fi
work=$(mktemp -d /tmp/librunc-bench.XXXXXX)
# A copy beside the others' binaries' kind of storage (in the VM the build
# tree is a 9p share without page cache: each exec would re-read it).
cp "$ours" "$work/runc"
declare -A bin=([ours]="$work/runc" [runc]=/usr/sbin/runc [crun]=/usr/bin/crun)
trap 'for r in ours runc crun; do for c in $(ls $work/state/$r 2>/dev/null); do ${bin[$r]} --root $work/state/$r delete -f $c >/dev/null 2>&1 || true; done; done; umount "$work/state" 2>/dev/null; rm -rf "$work"; restore_controllers' EXIT
# State roots on a tmpfs, as /run is on a usual host. (Here /run and /tmp are
# ext4 without a journal, where each new inode scans the recently deleted
# ones: file creation slows down for every runtime as a bench goes on.)
mkdir "$work/state" && mount -t tmpfs -o mode=700 librunc-bench "$work/state"
RUNC="$ours" sh "$here/scripts/make-bundle.sh" "$work/bundle" /bin/true >/dev/null
RUNC="$ours" sh "$here/scripts/make-bundle.sh" "$work/sleeper" sleep 1000 >/dev/null
# crun 1.8 and runc 1.1 do not know spec 1.3.0; the config uses nothing newer.
sed -i 's/"ociVersion": "1.3.0"/"ociVersion": "1.0.2"/' "$work/bundle/config.json" "$work/sleeper/config.json"
gcc -O2 -o "$work/floor" "$here/bench/floor.c"
gcc -O2 -o "$work/peak-rss" "$here/bench/peak-rss.c"
mkdir -p "$work/lib" && cp -a "$here"/target/release/lib/librunc.so* "$work/lib/"
gcc -O2 -I "$here/include" -o "$work/capi-loop" "$here/bench/capi-loop.c" -L "$work/lib" -lrunc -Wl,-rpath,"$work/lib"

# Waits (up to 60 s) until the machine is idle: the kernel frees network
# namespaces and cgroups asynchronously, and a previous batch (or bench)
# still doing so would slow whatever is measured next.
settle() {
    for _ in $(seq 60); do
        read -r _ a b c d e f g _ < /proc/stat; sleep 1
        read -r _ a2 b2 c2 d2 e2 f2 g2 _ < /proc/stat
        busy=$(( (a2-a)+(b2-b)+(c2-c)+(f2-f)+(g2-g) )); all=$(( busy+(d2-d)+(e2-e) ))
        [ $(( busy * 100 )) -lt $(( all * 5 )) ] && return
    done
}

# Every row is measured in rounds (BENCH_ROUNDS, default 3): each round
# times every runtime once, in an order rotated from round to round, and a
# row's median is taken over the runs of all its rounds. This machine's
# speed drifts by tens of per cent within minutes; rounds spread each
# runtime over the same stretch of time instead of giving each its own.
rounds=${BENCH_ROUNDS:-3}
per=$(( runs / rounds > 2 ? runs / rounds : 2 ))
runtimes=${BENCH_RUNTIMES:-ours runc crun}
order() { # round [extra...]: the runtimes (and extras), rotated by round
    local a=($runtimes "${@:2}") i
    for ((i = 0; i < ${#a[@]}; i++)); do echo "${a[(i + $1) % ${#a[@]}]}"; done
}

hf() { # name, runtime, round, command, [prepare]
    settle
    local out="$work/$1-$2.$3.json"
    local prep=()
    [ -n "${5:-}" ] && prep=(--prepare "$5")
    hyperfine -N -w 3 -r "$per" "${prep[@]}" --export-json "$out" "$4" >/dev/null 2>&1 || echo "bench: $1 failed for $2" >&2
}

B="--bundle $work/bundle"
R() { echo "${bin[$1]} --root $work/state/$1"; }
# The in-process loops (C API, and the floor's containers back to back as
# the C API loop runs them: /proc only, and with all of runc spec's mounts,
# the least any library could take for the C API rows' config) print one
# median per round into $work/NAME.txt.
loop() { # name, command...
    settle
    "${@:2}" >> "$work/$1.txt" || echo "bench: $1 failed" >&2
}
n=$((per * 5))
for k in $(seq "$rounds"); do
    for r in $(order "$k" floor capi capirun floorloop flooroci); do
        case $r in
        floor) hf run floor "$k" "$work/floor $work/bundle/rootfs" ;;
        capi) loop capi "$work/capi-loop" "$work/state/capi" "$work/bundle" "$n" ;;
        capirun) loop capirun "$work/capi-loop" "$work/state/capi" "$work/bundle" "$n" run ;;
        floorloop) loop floorloop "$work/floor" -n "$n" "$work/bundle/rootfs" ;;
        flooroci) loop floorloop-o "$work/floor" -o -n "$n" "$work/bundle/rootfs" ;;
        *) hf run "$r" "$k" "$(R $r) run $B b-run" ;;
        esac
    done
done
for k in $(seq "$rounds"); do for r in $(order "$k"); do
    hf create "$r" "$k" "$(R $r) create $B b-c" "sh -c '$(R $r) delete -f b-c'"; $(R $r) delete -f b-c >/dev/null 2>&1 || true
done; done
for k in $(seq "$rounds"); do for r in $(order "$k"); do
    hf start "$r" "$k" "$(R $r) start b-s" "sh -c '$(R $r) delete -f b-s; $(R $r) create $B b-s'"; $(R $r) delete -f b-s >/dev/null 2>&1 || true
done; done
for k in $(seq "$rounds"); do for r in $(order "$k"); do
    hf delete "$r" "$k" "$(R $r) delete -f b-d" "sh -c '$(R $r) create $B b-d'"
done; done
for r in $runtimes; do $(R $r) run -d --bundle "$work/sleeper" b-sleep >/dev/null 2>&1 </dev/null; done
for k in $(seq "$rounds"); do for r in $(order "$k"); do hf exec "$r" "$k" "$(R $r) exec b-sleep /bin/true"; done; done
for r in $runtimes; do $(R $r) delete -f b-sleep >/dev/null 2>&1; done
# Ids differ per runtime: the cgroup path defaults to the id, and two
# runtimes' containers must not share cgroups.
for r in $runtimes; do for i in $(seq 100); do $(R $r) create $B "many-$r-$i" </dev/null >/dev/null 2>&1; done; done
for k in $(seq "$rounds"); do for r in $(order "$k"); do hf state "$r" "$k" "$(R $r) state many-$r-1"; done; done
for k in $(seq "$rounds"); do for r in $(order "$k"); do hf list "$r" "$k" "$(R $r) list"; done; done
for r in $runtimes; do for i in $(seq 100); do $(R $r) delete -f "many-$r-$i" >/dev/null 2>&1; done; done
for par in ${BENCH_PAR-2 8}; do
    for k in $(seq "$rounds"); do for r in $(order "$k"); do
        settle
        hyperfine -N -w 1 -r 2 --export-json "$work/par$par-$r.$k.json" \
            "sh -c 'seq 100 | xargs -P $par -I{} $(R $r) run $B p$par-{}'" >/dev/null 2>&1 || echo "bench: par$par failed for $r" >&2
    done; done
done
# Peak RSS (KiB) of the runtime and the children it waits for; median of 9.
for c in run create; do
    for r in $runtimes; do
        for i in $(seq 9); do
            "$work/peak-rss" "$work/rss.one" $(R $r) $c $B "rss-$c" </dev/null >/dev/null 2>&1 && cat "$work/rss.one"
            $(R $r) delete -f "rss-$c" >/dev/null 2>&1 || true
        done | sort -n | sed -n 5p > "$work/rss-$c-$r.txt"
    done
done

mkdir -p "$here/bench/results"
python3 - "$work" "$mode" "$here/bench/results" "$ours" <<'PY'
import glob, json, sys, html
work, mode, outdir, ours = sys.argv[1:5]
def median(xs):
    xs = sorted(xs)
    n = len(xs)
    return float("nan") if n == 0 else (xs[n // 2] if n % 2 else (xs[n // 2 - 1] + xs[n // 2]) / 2)
def med(name, r):
    times = []
    for f in glob.glob(f"{work}/{name}-{r}.*.json"):
        try:
            times += json.load(open(f))["results"][0]["times"]
        except Exception:
            pass
    return 1000 * median(times)
def rss(c, r):
    try:
        return float(open(f"{work}/rss-{c}-{r}.txt").read().split()[0]) / 1024
    except Exception:
        return float("nan")
rows = [(n, med(n, "ours"), med(n, "runc"), med(n, "crun")) for n in
        ["run", "create", "start", "delete", "exec", "state", "list", "par2", "par8"]]
def rounds_median(path):  # capi-loop prints one median per round
    try:
        return median([float(l.split()[0]) for l in open(path) if l.strip()])
    except Exception:
        return float("nan")
capi, capirun = rounds_median(f"{work}/capi.txt"), rounds_median(f"{work}/capirun.txt")
floorloop, flooroci = rounds_median(f"{work}/floorloop.txt"), rounds_median(f"{work}/floorloop-o.txt")
floor = med("run", "floor")
lines = [f"cgroup {mode}; ours = {ours}",
         f"{'command':<14} {'ours':>9} {'runc':>9} {'crun':>9} {'ours/runc':>10} {'ours/crun':>10}"]
for n, o, r, c in rows:
    lines.append(f"{n:<14} {o:9.2f} {r:9.2f} {c:9.2f} {o/r:10.2f} {o/c:10.2f}")
run_crun = rows[0][3]
lines.append(f"{'capi loop':<14} {capi:9.2f} {'':>9} {run_crun:9.2f} {'':>10} {capi/run_crun:10.2f}   (C API create+start+wait+delete vs crun run)")
lines.append(f"{'capi run loop':<14} {capirun:9.2f} {'':>9} {run_crun:9.2f} {'':>10} {capirun/run_crun:10.2f}   (C API runc_run+wait+delete vs crun run)")
lines.append(f"{'floor run':<14} {floor:9.2f}   ours run / floor = {rows[0][1]/floor:.2f}")
lines.append(f"{'floor loop':<14} {floorloop:9.2f} {'':>9} {run_crun:9.2f} {'':>10} {floorloop/run_crun:10.2f}   (the floor's containers in one process, vs crun run)")
lines.append(f"{'floor oci loop':<14} {flooroci:9.2f} {'':>9} {run_crun:9.2f} {'':>10} {flooroci/run_crun:10.2f}   (the same with runc spec's mounts; capi loop / this = {capi/flooroci:.2f})")
for c in ["run", "create"]:
    o, r, cr = rss(c, "ours"), rss(c, "runc"), rss(c, "crun")
    lines.append(f"{'rss ' + c + ' MiB':<14} {o:9.2f} {r:9.2f} {cr:9.2f} {o/r:10.2f} {o/cr:10.2f}")
lines.append("(ms, medians; par2/par8: 100 runs 2 or 8 at a time, whole batch; list: 100 containers; rss: peak)")
text = "\n".join(lines) + "\n"
print(text, end="")
open(f"{outdir}/latest-{mode}.txt", "w").write(text)

# The plot: one group of bars per command, each scaled to its group's largest.
colors = {"ours": "#2a7ab0", "runc": "#b0b0b0", "crun": "#e08a2a", "floor": "#3a9a3a"}
groups = [(n, [("ours", o), ("runc", r), ("crun", c)] + ([("floor", floor)] if n == "run" else []) ) for n, o, r, c in rows]
groups.append(("capi loop", [("ours", capi), ("crun", run_crun), ("floor", flooroci)]))
groups.append(("capi run", [("ours", capirun), ("crun", run_crun)]))
bar, gap, left, width = 14, 14, 90, 420
y, parts = 40, []
for name, bars in groups:
    top = max((v for _, v in bars if v == v), default=1) or 1
    parts.append(f'<text x="{left-8}" y="{y + bar*len(bars)/2 + 4}" text-anchor="end" font-size="12">{html.escape(name)}</text>')
    for who, v in bars:
        w = 0 if v != v else width * v / top
        parts.append(f'<rect x="{left}" y="{y}" width="{w:.1f}" height="{bar-2}" fill="{colors[who]}"/>')
        parts.append(f'<text x="{left + w + 4:.1f}" y="{y + bar - 4}" font-size="10">{who} {v:.2f} ms</text>')
        y += bar
    y += gap
legend = " ".join(f'<rect x="{left + i*90}" y="12" width="10" height="10" fill="{c}"/><text x="{left + i*90 + 14}" y="21" font-size="11">{k}</text>' for i, (k, c) in enumerate(colors.items()))
svg = (f'<svg xmlns="http://www.w3.org/2000/svg" width="640" height="{y + 10}" font-family="sans-serif">'
       f'<rect width="100%" height="100%" fill="white"/>{legend}'
       f'<text x="630" y="21" text-anchor="end" font-size="11">median ms, cgroup {mode}</text>' + "".join(parts) + "</svg>\n")
open(f"{outdir}/latest-{mode}.svg", "w").write(svg)
PY
