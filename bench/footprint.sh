#!/bin/bash
# bench/footprint.sh: how much of our code one `runc run` makes the VM's
# emulator translate, beside the floor program. Under TCG each executed
# instruction of a program loaded at a new random address is translated
# anew on every exec (docs/PERFORMANCE.md), so this count, not the CPU
# time, is what `run` costs there beyond the kernel's work. It varies by
# 0.1% from run to run, the VM's timings by 20%.
#   bench/footprint.sh [TOP]      (as root; TOP functions per binary, default 12)
# It builds non-PIE copies of the CLI and the init (text at 0x20000000 and
# 0x10000000, with symbols) under target/footprint, runs one `runc run` of
# the bench's bundle and one floor run (under setarch -R) in one VM with
# QEMU's translation log on those address ranges, and prints per binary the
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
cp "$cli" "$work/runc"
RUNC="$cli" sh "$here/scripts/make-bundle.sh" "$work/bundle" /bin/true >/dev/null
gcc -O2 -o "$work/floor" "$here/bench/floor.c"
# Three ranges: our two binaries; the floor and its ld.so and libc where
# the kernel puts them without randomisation (x86-64, 47-bit addresses).
ranges=0x10000000..0x30000000,0x555555554000..0x555555600000,0x7ffff7000000..0x7ffff8000000
RUN_IN_VM_QEMU_ARGS="-d in_asm -D $work/tb.log -dfilter $ranges" \
    "$vm" --mem 2G --timeout 600 --share "$work" -- sh -c \
    "$work/runc --root /run/footprint run --bundle $work/bundle fp && setarch -R $work/floor $work/bundle/rootfs" \
    || { echo "footprint: the run in the VM failed"; exit 1; }

python3 - "$work/tb.log" "$cli" "$init" "$top" <<'EOF'
import bisect, collections, subprocess, sys
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
for block in open(log, errors="replace").read().split("----------------"):
    code = [l for l in block.splitlines() if l.startswith("0x")]
    if not code: continue
    a = int(code[0].split(":")[0], 16); b = which(a)
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
for b in ("runc", "runc-init"):
    print(f"top functions of {b}:")
    for n, k in per[b].most_common(top): print(f"  {k:6} {n[:100]}")
EOF
