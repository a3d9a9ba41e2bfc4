#!/bin/sh
# make-bundle.sh DIR [terminal] [ARG...]: a busybox bundle in DIR from
# busybox-static, with a config from `runc spec`. With no ARG the process is
# runc's default interactive `sh`; otherwise terminal is off and ARGs run.
set -eu
dir=$1; shift
runc=${RUNC:-$(dirname "$0")/../target/debug/runc}
[ -x /bin/busybox ] || { echo "make-bundle.sh: /bin/busybox missing (apt-get install busybox-static)" >&2; exit 1; }
mkdir -p "$dir/rootfs/bin"
cp /bin/busybox "$dir/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do
    [ "$a" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$a"
done
mkdir -p "$dir/rootfs/proc" "$dir/rootfs/sys" "$dir/rootfs/dev" "$dir/rootfs/etc" "$dir/rootfs/tmp" "$dir/rootfs/root"
echo 'root:x:0:0:root:/root:/bin/sh' > "$dir/rootfs/etc/passwd"
echo 'root:x:0:' > "$dir/rootfs/etc/group"
if [ ! -e "$dir/config.json" ] && [ ! -e "$dir/runtime.json" ]; then
    "$runc" spec --bundle "$dir"
    if [ $# -gt 0 ]; then
        args=""
        for a in "$@"; do args="$args\"$(printf '%s' "$a" | sed 's/["\\]/\\&/g')\", "; done
        sed -i -e 's/"terminal": true/"terminal": false/' \
               -e "s|^      \"sh\"$|      ${args%, }|" "$dir/config.json"
    fi
fi
