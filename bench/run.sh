#!/bin/bash
# bench/run.sh: the benchmark behind `make bench` (which first builds scopefs
# and runs scripts/install-deps.sh bench).  Runs each section in turn; a
# section is bench/NAME.sh, a script of its own that writes
# bench/results/NAME-DATE.md and prints its table.
#
#   local  bench/local.sh: scopefs's local plugin vs. the same directory used
#          natively vs. libfuse's passthrough_hp serving it
#   s3     bench/s3.sh: scopefs's s3 plugin vs. s3fs and rclone against
#          the same local S3 server.
#   azblob bench/azblob.sh: scopefs's azblob plugin vs. rclone's azureblob
#          remote on the same local Azurite.
#   gcs    bench/gcs.sh: scopefs's gcs plugin vs. rclone's "google cloud
#          storage" remote on the same local Cloud Storage emulator.
#   (the last three through bench/objstore.sh, with bench/store-KIND.sh)
#   nfs    bench/nfs.sh: scopefs's nfs plugin vs. libnfs's nfs-cp/nfs-cat
#          (and the exported directory itself) on one local nfs-ganesha.
# A new section is one more bench/NAME.sh: source bench/lib.sh (daemon
# start/stop, timeouts, medians, tables) and add NAME to the default below.
#
# Environment:
#   BENCH_SECTIONS="local s3 azblob gcs nfs"  sections to run (a missing script is skipped)
#   BENCH_RUNS=3               runs per target; the tables show medians
#   BENCH_QUICK=1              a fast smoke run: small sizes, 1 run
#   BENCH_DIR=bench/work       data, mount points, logs (mind the file system:
#                              the local section compares against it natively)
#   and the per-section ones in each section's header (bench/local.sh).
# Needs root.  Must not share the machine with a build: the numbers would
# mean nothing.
set -u

BENCH_HOME=$(cd "$(dirname "$0")" && pwd)
cd "$BENCH_HOME/.." || exit 1
mkdir -p "$BENCH_HOME/work"

# One benchmark at a time.
exec 9> "$BENCH_HOME/work/.lock"
flock -n 9 || { echo "bench/run.sh: another benchmark is running" >&2; exit 1; }

for p in make cc1 cc1plus ld ninja; do
	if pgrep -x "$p" >/dev/null; then
		echo "bench/run.sh: warning: a build ($p) is running; the numbers will be noisy" >&2
		break
	fi
done

rc=0
ran=""
for section in ${BENCH_SECTIONS:-local s3 azblob gcs nfs}; do
	script="$BENCH_HOME/$section.sh"
	if [ ! -f "$script" ]; then
		echo "bench/run.sh: no bench/$section.sh yet: section '$section' skipped" >&2
		continue
	fi
	echo "bench/run.sh: section '$section'" >&2
	bash "$script" || { rc=1; echo "bench/run.sh: section '$section' reported failures" >&2; }
	ran="$ran $section"
done
[ -n "$ran" ] || { echo "bench/run.sh: no section ran" >&2; exit 1; }
exit $rc
