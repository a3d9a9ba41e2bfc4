# Shared by the engine scripts: runtimes from argv, a busybox image tree,
# and the scenario runner that prints a side-by-side table and
# "N passed, M failed" (counted for the first runtime).

# Absolute runtime paths from the script's arguments (default: our debug runc).
e2e_runtimes() {
    RUNTIMES=()
    for r in "$@"; do RUNTIMES+=("$(realpath "$r")"); done
    [ ${#RUNTIMES[@]} -gt 0 ] || RUNTIMES=("$E2E_HERE/target/debug/runc")
}

# A busybox root filesystem tree and its tar in $1 (img/ and img.tar).
e2e_image_tar() {
    mkdir -p "$1/img/bin" "$1/img/etc" "$1/img/tmp"
    cp /bin/busybox "$1/img/bin/"
    for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -sf busybox "$1/img/bin/$a"; done
    echo 'root:x:0:0:root:/root:/bin/sh' > "$1/img/etc/passwd"
    tar -C "$1/img" -cf "$1/img.tar" .
}

# e2e_run WORKDIR SETUP_FN: for each runtime, SETUP_FN RUNTIME exports what
# the scenarios use; each entry of SCENARIOS is "name|shell snippet", passing
# when the snippet exits 0 (with $W a fresh scratch directory).
e2e_run() {
    local work=$1 setup=$2 rt s name r pass=0 fail=0
    declare -A result
    for rt in "${RUNTIMES[@]}"; do
        "$setup" "$rt"
        for s in "${SCENARIOS[@]}"; do
            name=${s%%|*}
            export W; W=$(mktemp -d "$work/s.XXXX")
            if timeout 120 bash -c "${s#*|}" >/dev/null 2>"$W/stderr"; then r=ok; else r=FAIL; fi
            result["$rt|$name"]=$r
            [ "$r" = ok ] || echo "FAIL [$rt] $name: $(tail -2 "$W/stderr" | tr '\n' ' ')"
        done
    done
    printf '%-28s' scenario
    for rt in "${RUNTIMES[@]}"; do printf ' %-14s' "$(basename "$(dirname "$rt")")/$(basename "$rt")"; done
    echo
    for s in "${SCENARIOS[@]}"; do
        name=${s%%|*}
        printf '%-28s' "$name"
        for rt in "${RUNTIMES[@]}"; do printf ' %-14s' "${result[$rt|$name]}"; done
        echo
        if [ "${result[${RUNTIMES[0]}|$name]}" = ok ]; then pass=$((pass+1)); else fail=$((fail+1)); fi
    done
    echo "$pass passed, $fail failed"
    [ $fail = 0 ]
}

# The engines make a parent cgroup for their containers (podman
# libpod_parent, Docker docker, containerd its namespace) and keep it.
# e2e_cgroup_parent NAME notes which hierarchies have it now;
# e2e_cgroup_parent_cleanup removes (when empty) the ones made since.
e2e_cgroup_parent() {
    E2E_CG_NAME=$1
    E2E_CG_HAD=$(ls -d /sys/fs/cgroup/"$1" /sys/fs/cgroup/*/"$1" 2>/dev/null)
}
e2e_cgroup_parent_cleanup() {
    local d
    for d in $(ls -d /sys/fs/cgroup/"$E2E_CG_NAME" /sys/fs/cgroup/*/"$E2E_CG_NAME" 2>/dev/null); do
        echo "$E2E_CG_HAD" | grep -qx "$d" && continue
        find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
        [ -d "$d" ] && echo "e2e: cgroup $d is not empty, left in place" >&2
    done
}
