#!/bin/bash
# tests/runtime-tools.sh: the OCI runtime-tools validation suite against our
# runc (and any other runtimes given), side by side. Run by hand, as root,
# with a checkout of github.com/opencontainers/runtime-tools (not fetched
# here: CI has no network):
#   tests/runtime-tools.sh RUNTIME_TOOLS_DIR [RUNTIME...]
# Default runtime: our release runc. The checkout is copied, never changed.
# Debian 12's Go is 1.19 and the suite wants 1.21: the copy gets stand-ins
# for the few newer library calls it uses (slices.Contains/DeleteFunc,
# sync.OnceValue(s), strings.CutPrefix). Prints ok/not ok counts per test and
# runtime, and names any mount a test left in our mount namespace (removed
# afterwards) and any test dir left in /tmp.
set -euo pipefail
[ $# -ge 1 ] && [ -d "$1/validation" ] || { echo "usage: $0 RUNTIME_TOOLS_DIR [RUNTIME...]" >&2; exit 2; }
command -v go >/dev/null || { echo "runtime-tools: go not found (apt-get install golang-go)" >&2; exit 1; }
here=$(cd "$(dirname "$0")/.." && pwd)
src=$(cd "$1" && pwd); shift
runtimes=("$@")
[ ${#runtimes[@]} -gt 0 ] || runtimes=("$(ls "$here"/target/*-unknown-linux-musl/release/runc "$here"/target/release/runc 2>/dev/null | head -1)")
for i in "${!runtimes[@]}"; do
    r=$(command -v "${runtimes[$i]}" 2>/dev/null) && [ -x "$r" ] || { echo "runtime-tools: no runtime ${runtimes[$i]:-} (make build first)" >&2; exit 1; }
    runtimes[$i]=$(realpath "$r")
done
work=$(mktemp -d /tmp/librunc-rt.XXXXXX)
trap 'rm -rf "$work"' EXIT
cp -a "$src" "$work/src"
cd "$work/src"
export GOFLAGS=-mod=vendor GOPATH="$work/gopath" GOCACHE="$work/gocache" CGO_ENABLED=0

if ! go build ./validate/... 2>/dev/null; then
    mkdir -p vendor/slices
    cat > vendor/slices/slices.go <<'EOF'
package slices

func Contains[S ~[]E, E comparable](s S, v E) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func DeleteFunc[S ~[]E, E any](s S, del func(E) bool) S {
	out := s[:0]
	for _, x := range s {
		if !del(x) {
			out = append(out, x)
		}
	}
	return out
}
EOF
    printf '# slices\n## explicit; go 1.18\nslices\n' >> vendor/modules.txt
    f=vendor/github.com/moby/sys/capability/capability_linux.go
    sed -i 's/sync\.OnceValues(/onceValues(/; s/strings\.CutPrefix(/cutPrefix(/' "$f"
    cat >> "$f" <<'EOF'

func onceValues[T1, T2 any](f func() (T1, T2)) func() (T1, T2) {
	var once sync.Once
	var a T1
	var b T2
	return func() (T1, T2) { once.Do(func() { a, b = f() }); return a, b }
}

func cutPrefix(s, p string) (string, bool) {
	if strings.HasPrefix(s, p) {
		return s[len(p):], true
	}
	return s, false
}
EOF
    f=validate/capabilities/validate.go
    sed -i 's/sync\.OnceValue(/onceValue(/' "$f"
    cat >> "$f" <<'EOF'

func onceValue[T any](f func() T) func() T {
	var once sync.Once
	var v T
	return func() T { once.Do(func() { v = f() }); return v }
}
EOF
fi
go build -tags "netgo osusergo" -o runtimetest ./cmd/runtimetest
tests=$(find validation -name '*.go' ! -path '*/util/*' | sort)
for t in $tests; do go build -o "${t%.go}.t" "$t"; done

mounts() { awk '{print $5}' /proc/self/mountinfo | sort; }
printf '%-34s' test; for r in "${runtimes[@]}"; do printf ' %21s' "$(basename "$(dirname "$r")")/$(basename "$r")"; done; echo
for t in $tests; do
    name=$(basename "$t" .go)
    printf '%-34s' "$name"
    notes=""
    for r in "${runtimes[@]}"; do
        before=$(mounts); dirs=$(ls -d /tmp/ocitest* 2>/dev/null || true)
        out="$work/$name-$(echo "$r" | tr / _).tap"
        RUNTIME=$r timeout 120 "./${t%.go}.t" > "$out" 2>&1 || true
        printf ' %10s ok %3s not' "$(grep -c '^ok' "$out" || true)" "$(grep -c '^not ok' "$out" || true)"
        leaked=$(comm -13 <(echo "$before") <(mounts))
        if [ -n "$leaked" ]; then
            notes+="  $r left mounts in our namespace: $(echo $leaked)"$'\n'
            for m in $(echo "$leaked" | sort -r); do umount -l "$m" 2>/dev/null || true; done
        fi
        for d in $(ls -d /tmp/ocitest* 2>/dev/null || true); do
            echo "$dirs" | grep -qx "$d" || { notes+="  $r left $d"$'\n'; rm -rf "$d"; }
        done
    done
    echo
    printf '%s' "$notes"
done
