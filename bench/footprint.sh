#!/bin/bash
# bench/footprint.sh: how much of our code one `runc run` makes the VM's
# emulator translate, beside the floor program. Under TCG each executed
# instruction of a program loaded at a new random address is translated
# anew on every exec (docs/PERFORMANCE.md), so this count, not the CPU
# time, is what `run` costs there beyond the kernel's work. It varies by
# 0.1% from run to run, the VM's timings by 20%.
#   bench/footprint.sh [TOP]      (as root; TOP functions per binary, default 12;
#                                  FOOTPRINT_LOG=FILE keeps QEMU's log)
# It builds non-PIE copies of the CLI and the init (text at 0x20000000 and
# 0x10000000, with symbols) under target/footprint, runs `runc run` of the
# bench's bundle twice (the init's cache made by the first, as in the
# bench) and one floor run (under setarch -R) in one VM with QEMU's
# translation log on those address ranges, and prints per binary the
# translated instructions and the functions with the most. A non-PIE copy
# is translated as often as the PIE one in a single run: only the address
# differs.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
top=${1:-12}
vm=${VM:-$here/../shared/vm/run-in-vm}
[ -x "$vm" ] || { echo "footprint: $vm not found (set VM=)"; exit 1; }
for t in python3 gcc nm setarch; do command -v $t >/dev/null || { echo "footprint: $t missing"; exit 1; }; done
musl=$(uname -m)-unknown-linux-musl
out=$here/target/footprint
mkdir -p "$out"
env CARGO_TARGET_DIR="$out" \
    "CARGO_TARGET_$(echo "$musl" | tr a-z- A-Z_)_RUSTFLAGS=-Crelocation-model=static -Clink-arg=-Wl,-Ttext-segment=0x20000000" \
    RUNC_INIT_RUSTFLAGS="-Crelocation-model=static -Clink-arg=-Wl,-Ttext-segment=0x10000000 -Cstrip=none" \
    make -s -C "$here" cli-static PROFILE=--release >"$out.log" 2>&1 || { tail -20 "$out.log"; exit 1; }
cli=$out/$musl/release/runc
[ -x "$cli" ] || { echo "footprint: no $cli (the $musl Rust target is needed)"; exit 1; }
init=$(ls -t "$out"/$musl/release/build/librunc-*/out/runc-init | head -1)

work=$(mktemp -d /tmp/librunc-footprint.XXXXXX)
trap 'rm -rf "$work"' EXIT
# Two copies of the CLI: the first run makes the init's cache in /run (as
# the bench's warm-up does), the second is counted. Their pages differ, so
# the emulator translates the second anew; the init runs from the same
# cached file both times and is translated in the first run only.
cp "$cli" "$work/runc-first"
cp "$cli" "$work/runc"
RUNC="$cli" sh "$here/scripts/make-bundle.sh" "$work/bundle" /bin/true >/dev/null
gcc -O2 -o "$work/floor" "$here/bench/floor.c"
# Three ranges: our two binaries; the floor and its ld.so and libc where
# the kernel puts them without randomisation (x86-64, 47-bit addresses).
ranges=0x10000000..0x30000000,0x555555554000..0x555555600000,0x7ffff7000000..0x7ffff8000000
RUN_IN_VM_QEMU_ARGS="-d in_asm -D $work/tb.log -dfilter $ranges" \
    "$vm" --mem 2G --timeout 600 --share "$work" -- sh -c \
    "$work/runc-first --root /run/footprint run --bundle $work/bundle fp && setarch -R $work/floor $work/bundle/rootfs &&
     $work/runc --root /run/footprint run --bundle $work/bundle fp" \
    || { echo "footprint: the run in the VM failed"; exit 1; }

[ -z "${FOOTPRINT_LOG:-}" ] || cp "$work/tb.log" "$FOOTPRINT_LOG"
python3 - "$work/tb.log" "$cli" "$init" "$top" <<'EOF'
import bisect, collections, re, subprocess, sys
log, cli, init, top = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def symbols(path):
    out = subprocess.run(["nm", "-n", "-C", path], capture_output=True, text=True, check=True).stdout
    s = [(int(a, 16), n) for a, t, n in (l.split(" ", 2) for l in out.splitlines() if l.count(" ") >= 2) if t in "tTwW"]
    return [a for a, _ in s], [n for _, n in s]
bins = {"runc-init": symbols(init), "runc": symbols(cli)}
def which(a):
    if a < 0x20000000: return "runc-init"
    if a < 0x30000000: return "runc"
    return "floor (with ld.so, libc)"
insns, tbs, per = collections.Counter(), collections.Counter(), collections.defaultdict(collections.Counter)
after_floor = False  # the log runs in order: first run, floor, counted run
for block in open(log, errors="replace").read().split("----------------"):
    code = [l for l in block.splitlines() if l.startswith("0x")]
    if not code: continue
    a = int(code[0].split(":")[0], 16); b = which(a)
    after_floor |= b.startswith("floor")
    if (b == "runc") != after_floor and not b.startswith("floor"): continue
    insns[b] += len(code); tbs[b] += 1
    if b in bins:
        addrs, names = bins[b]; i = bisect.bisect_right(addrs, a) - 1
        per[b][names[i] if i >= 0 else "?"] += len(code)
ours = insns["runc"] + insns["runc-init"]
floor = insns["floor (with ld.so, libc)"]
print("translated guest instructions in one run (blocks)")
for b in ("runc", "runc-init", "floor (with ld.so, libc)"):
    print(f"  {b:26} {insns[b]:7} ({tbs[b]})")
print(f"  ours / floor               {ours / floor:7.2f}" if floor else "  floor: nothing logged")
def crate(n):
    # "<a::B as c::D>::f" and "a::f" belong to a; names without a path to libc.
    m = re.match(r"<?(?:impl [^ ]+ for )?&?(?:mut )?([A-Za-z_][A-Za-z0-9_]*)(?:\[[0-9a-f]+\])?::", n)
    return m.group(1) if m else "libc and start-up"
for b in ("runc", "runc-init"):
    by = collections.Counter()
    for n, k in per[b].items(): by[crate(n)] += k
    print(f"{b} by crate: " + ", ".join(f"{c} {k}" for c, k in by.most_common(10)))
for b in ("runc", "runc-init"):
    print(f"top functions of {b}:")
    for n, k in per[b].most_common(top): print(f"  {k:6} {n[:100]}")
EOF
