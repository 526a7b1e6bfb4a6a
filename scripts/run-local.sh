#!/bin/sh
# Mount etc/scopefs-local.conf under MNT with the local plugin:
#   MNT/cluster_storage, MNT/user_storage, MNT/shared_storage
# backed by a data directory ($SCOPEFS_ROOT, default MNT.data).
# Usage: scripts/run-local.sh MNT        (what `make run MNT=...` calls)
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 MNT" >&2
	exit 2
fi
cd "$(dirname "$0")/.."
conf=etc/scopefs-local.conf

mkdir -p "$1"
mnt=$(realpath "$1")
root=${SCOPEFS_ROOT:-$mnt.data}
mkdir -p "$root"
root=$(realpath "$root")

# The identity the configuration reads, fixed here so that the prefix
# directories created below are the ones the mounts will use.
SCOPEFS_CLOUD_ID=${SCOPEFS_CLOUD_ID:-local-cloud}
SCOPEFS_USER_ID=${SCOPEFS_USER_ID:-${USER:-$(id -un)}}
SCOPEFS_WORKSPACE_ID=${SCOPEFS_WORKSPACE_ID:-local-workspace}
export SCOPEFS_CLOUD_ID SCOPEFS_USER_ID SCOPEFS_WORKSPACE_ID
export SCOPEFS_MNT="$mnt" SCOPEFS_ROOT="$root" SCOPEFS_PLUGIN_DIR="$PWD/plugins"

for d in cluster_storage user_storage shared_storage; do
	if mountpoint -q "$mnt/$d" 2>/dev/null; then
		echo "$0: $mnt/$d is already mounted; unmount it first: fusermount3 -u $mnt/$d" >&2
		exit 1
	fi
	mkdir -p "$mnt/$d"
done
mkdir -p "$root/workspaces/$SCOPEFS_WORKSPACE_ID/cluster_storage" \
	"$root/user_storage/$SCOPEFS_USER_ID" "$root/shared_storage"

if [ ! -x ./scopefs ]; then
	echo "$0: ./scopefs not built; run make first" >&2
	exit 1
fi

./scopefs mount "$conf"

echo "scopefs: $conf mounted under $mnt (data in $root)"
./scopefs check "$conf" || true
cat <<MSG

To unmount:
    fusermount3 -u $mnt/cluster_storage
    fusermount3 -u $mnt/user_storage
    fusermount3 -u $mnt/shared_storage
or stop the daemon, which unmounts all three: kill <pid>  (pidof scopefs: $(pidof scopefs 2>/dev/null || echo none))
MSG
