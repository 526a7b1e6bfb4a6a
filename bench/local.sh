#!/bin/bash
# bench/local.sh: the local section of `make bench`.  The same workloads run,
# in one go, on three targets:
#   native          a plain directory (the baseline)
#   passthrough_hp  libfuse's reference server (example/passthrough_hp from
#                   Debian's fuse3 source, bench/build-passthrough-hp.sh)
#                   serving such a directory
#   scopefs         ./scopefs with the local plugin serving such a directory
# Runs are interleaved (run 1 on every target, then run 2, ...), each target
# freshly mounted for each run; the table shows the medians.
#
# Environment (run.sh documents them too):
#   BENCH_RUNS=3           runs per target (median taken)
#   BENCH_QUICK=1          small sizes and 1 run: a smoke test
#   BENCH_DIR=bench/work   where the data and mount points go
#   BENCH_LOCAL_TARGETS    subset/order of "native passthrough_hp scopefs"
#   BENCH_PT_OPTS          extra passthrough_hp options (e.g. --single)
#   BENCH_SCOPEFS_MOUNT_KEYS  extra "key = value" lines for the [mount]
#                          section of scopefs's config, separated by ';'
# Needs root (drop_caches, mounting).  Writes bench/results/local-DATE.md
# (and the raw numbers as local-DATE.tsv) and prints the table.
set -u -o pipefail

BENCH_HOME=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$BENCH_HOME")
# shellcheck source=bench/lib.sh
. "$BENCH_HOME/lib.sh"

QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then
	RUNS=${BENCH_RUNS:-1}
	SEQ_MB=64 RAND_MB=32 RAND_SECS=3 NSMALL=1000 TREE_SRC=/usr/include/linux
else
	RUNS=${BENCH_RUNS:-3}
	SEQ_MB=1024 RAND_MB=256 RAND_SECS=10 NSMALL=10000 TREE_SRC=/usr/include
fi
TARGETS=${BENCH_LOCAL_TARGETS:-native passthrough_hp scopefs}
PT_OPTS=${BENCH_PT_OPTS:-}
DATA="$BENCH_DIR/data"
MNT="$BENCH_DIR/mnt"
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS="$BENCH_HOME/results"
BENCH_RAW="$BENCH_DIR/local-raw.tsv"

[ "$(id -u)" -eq 0 ] || bench_die "run as root (drop_caches and FUSE mounts need it)"
[ -c /dev/fuse ] || bench_die "/dev/fuse is missing"
case "$RUNS" in '' | *[!0-9]* | 0) bench_die "BENCH_RUNS must be a positive number" ;; esac

# One benchmark at a time: run.sh holds the lock on fd 9 for its sections;
# run alone, take it here.
if [ "$(readlink /proc/$$/fd/9 2>/dev/null)" != "$BENCH_HOME/work/.lock" ]; then
	mkdir -p "$BENCH_HOME/work"
	exec 9> "$BENCH_HOME/work/.lock"
	flock -n 9 || bench_die "another benchmark is running (bench/work/.lock)"
fi

trap 'bench_cleanup' EXIT
trap 'bench_log "interrupted"; exit 130' INT
trap 'bench_log "terminated"; exit 143' TERM

mkdir -p "$BENCH_BIN" "$BENCH_LOGS" "$DATA" "$MNT" "$RESULTS"
: > "$BENCH_RAW"

# --- the workloads ----------------------------------------------------------

gib_or_mib() { [ "$1" -ge 1024 ] && echo "$(($1 / 1024)) GiB" || echo "$1 MiB"; }
bench_workload seqwrite "sequential write $(gib_or_mib "$SEQ_MB"), 1 MiB blocks + fsync" MB/s higher
bench_workload seqread "sequential read $(gib_or_mib "$SEQ_MB"), cold" MB/s higher
bench_workload seqread_w "sequential read $(gib_or_mib "$SEQ_MB"), backend warm" MB/s higher
bench_workload randread "4 KiB random read, psync, $(gib_or_mib "$RAND_MB") file, backend warm" IOPS higher
bench_workload sf_create "$NSMALL × 4 KiB files: create" ops/s higher
bench_workload sf_ls "$NSMALL files: \`ls -l\`, cold" ms lower
bench_workload sf_stat "$NSMALL files: stat, cold" ops/s higher
bench_workload sf_read "$NSMALL files: read, cold" ops/s higher
bench_workload sf_unlink "$NSMALL files: unlink, cold" ops/s higher
# The tree workload's label gets the entry count once the tarball exists.
BENCH_WL_UNIT[rss]=MiB

# --- preparation: helpers, passthrough_hp, the tarball ------------------------

prepare() {
	local tar="$BENCH_DIR/tree.tar"
	[ -n "$QUICK" ] && tar="$BENCH_DIR/tree-quick.tar"

	if [ ! -x "$BENCH_BIN/smallfiles" ] || [ "$BENCH_HOME/smallfiles.c" -nt "$BENCH_BIN/smallfiles" ]; then
		bench_log "compiling bench/smallfiles.c"
		bench_t 120 "${CC:-cc}" -O2 -Wall -Wextra -o "$BENCH_BIN/smallfiles" "$BENCH_HOME/smallfiles.c" ||
			bench_die "cannot compile bench/smallfiles.c"
	fi
	case " $TARGETS " in *" passthrough_hp "*)
		bench_t 1800 "$BENCH_HOME/build-passthrough-hp.sh" ||
			bench_die "cannot build passthrough_hp (bench/build-passthrough-hp.sh)"
		;;
	esac
	if [ ! -s "$tar" ] || [ ! -s "$tar.count" ]; then
		bench_log "making $tar from $TREE_SRC"
		bench_t "$BENCH_STEP_TIMEOUT" tar cf "$tar.tmp" -C "$(dirname "$TREE_SRC")" "$(basename "$TREE_SRC")" ||
			bench_die "cannot make the tarball"
		tar tf "$tar.tmp" | wc -l > "$tar.count"
		mv "$tar.tmp" "$tar"
	fi
	TAR=$tar
	TREE_N=$(cat "$tar.count")
	TREE_MB=$(du -m "$tar" | cut -f1)
	bench_workload tar_x "source tree ($TREE_SRC, $TREE_N entries, $TREE_MB MB): \`tar xf\`" entries/s higher
	bench_workload tar_rm "source tree: \`rm -rf\`" entries/s higher
}

# --- targets -------------------------------------------------------------------
# target_up T: mount T if it is a FUSE target; sets WDIR (where the workloads
# run), BDIR (the directory behind WDIR) and PID (the daemon, empty for
# native).  target_down T: unmount.

SCOPEFS_CONF="$BENCH_DIR/scopefs-local.conf"

target_up() {
	local t=$1 src="$DATA/$1" mnt="$MNT/$1"
	PID='' BENCH_FUSE_MNT=''
	bench_timeout_reset
	rm -rf "$src" && mkdir -p "$src" "$mnt" || return 1
	case "$t" in
	native)
		WDIR=$src BDIR=$src
		;;
	passthrough_hp)
		# --foreground only keeps it from forking, so that we know its pid.
		# shellcheck disable=SC2086
		bench_daemon_start passthrough_hp "$mnt" "$BENCH_LOGS/passthrough_hp-run$RUN.log" \
			"$BENCH_BIN/passthrough_hp" --foreground $PT_OPTS "$src" "$mnt" || return 1
		PID=$BENCH_PID BENCH_FUSE_MNT=$mnt
		WDIR=$mnt BDIR=$src
		;;
	scopefs)
		# scope=cloud maps the mount to ROOT/shared_storage.
		mkdir -p "$src/shared_storage"
		{
			echo "# generated by bench/local.sh"
			echo "[backend b]"
			echo "plugin = local"
			echo "root = $src"
			echo
			echo "[mount $mnt]"
			echo "backend = b"
			echo "scope = cloud"
			[ -n "${BENCH_SCOPEFS_MOUNT_KEYS:-}" ] && tr ';' '\n' <<< "$BENCH_SCOPEFS_MOUNT_KEYS"
		} > "$SCOPEFS_CONF"
		bench_daemon_start scopefs "$mnt" "$BENCH_LOGS/scopefs-run$RUN.log" \
			env -C "$TOP" SCOPEFS_PLUGIN_DIR="$TOP/plugins" "$TOP/scopefs" mount -f "$SCOPEFS_CONF" ||
			return 1
		PID=$BENCH_PID BENCH_FUSE_MNT=$mnt
		WDIR=$mnt BDIR=$src/shared_storage
		;;
	*)
		bench_log "unknown target $t"
		return 1
		;;
	esac
}

# Record the daemon's peak RSS (MiB), stop it, and remove the data.
target_down() {
	local t=$1
	if [ -n "$PID" ]; then
		kill -0 "$PID" 2>/dev/null && bench_record "$t" rss "$(bench_div "$(bench_hwm "$PID")" 1024 %.1f)"
		bench_daemon_stop "$PID" "$MNT/$t" || bench_log "$t did not stop cleanly"
	fi
	BENCH_FUSE_MNT=
	bench_t "$BENCH_STEP_TIMEOUT" rm -rf "${DATA:?}/$t"
}

# The daemon is alive, its mount still there and no step has timed out
# (a hung daemon would make every later step wait for its time-out).
target_ok() {
	bench_timed_out && return 1
	[ -z "$PID" ] && return 0
	kill -0 "$PID" 2>/dev/null && bench_is_mounted "$MNT/$1"
}

# --- one run of every workload on one target -----------------------------------

# rec T KEY VALUE-OR-EMPTY: record VALUE, or "fail" when empty.
rec() { bench_record "$1" "$2" "${3:-fail}"; }

# alive T KEY: false (after recording KEY as "fail") when the target is dead.
alive() {
	target_ok "$1" && return 0
	bench_log "$1: daemon or mount gone, or a step timed out, before $2"
	rec "$1" "$2" ""
	return 1
}

# mbps BYTES SECONDS
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { printf "%.1f", b / s / 1e6 }'; }

w_seq() {
	local t=$1 d=$2 f="$2/seq.dat" bytes=$((SEQ_MB * 1048576)) t0 el size v
	alive "$t" seqwrite || return 1
	bench_t 60 rm -f "$f"
	v=
	# Writes start after a sync (nothing dirty left from before), reads
	# after dropping the caches.
	if bench_t "$BENCH_STEP_TIMEOUT" sync; then
		t0=$(bench_now)
		bench_t "$BENCH_STEP_TIMEOUT" dd if=/dev/zero of="$f" bs=1M count="$SEQ_MB" conv=fsync status=none &&
			el=$(bench_elapsed "$t0") && v=$(mbps "$bytes" "$el")
	fi
	rec "$t" seqwrite "$v"

	alive "$t" seqread || return 1
	v=
	size=$(bench_t 60 stat -c %s "$f" 2>/dev/null)
	if [ "$size" != "$bytes" ]; then
		bench_log "$t: $f has size '${size}', not $bytes"
		rec "$t" seqread ""
		rec "$t" seqread_w ""
		bench_t "$BENCH_STEP_TIMEOUT" rm -f "$f"
		return 1
	fi
	if bench_drop_caches; then
		t0=$(bench_now)
		bench_t "$BENCH_STEP_TIMEOUT" dd if="$f" of=/dev/null bs=1M status=none &&
			el=$(bench_elapsed "$t0") && v=$(mbps "$bytes" "$el")
	fi
	rec "$t" seqread "$v"

	# The same read with the backing file in the page cache and the
	# target's own cache cold: no disk, only the way through the target.
	alive "$t" seqread_w || return 1
	v=
	if bench_drop_caches && bench_t "$BENCH_STEP_TIMEOUT" cat "$BDIR/seq.dat" > /dev/null; then
		t0=$(bench_now)
		bench_t "$BENCH_STEP_TIMEOUT" dd if="$f" of=/dev/null bs=1M status=none &&
			el=$(bench_elapsed "$t0") && v=$(mbps "$bytes" "$el")
	fi
	rec "$t" seqread_w "$v"
	bench_t "$BENCH_STEP_TIMEOUT" rm -f "$f"
}

w_rand() {
	local t=$1 d=$2 f="$2/rand.dat" out v=
	alive "$t" randread || return 1
	# Lay the file out (untimed) through the target.  Then drop every cache
	# and read the file back through the backing directory: the backend's
	# page cache is warm, the target's own (FUSE) cache is cold, so each 4 KiB
	# read is one request to the daemon and no disk wait (a cold backend
	# measures the disk, and readahead, which fio's FADV_RANDOM turns off
	# natively but not behind FUSE, skews it).  Natively this is a page-cache
	# hit: the ratio is the whole cost of going through FUSE.
	# size= with runtime= and no time_based: one pass over the file (each
	# block read once: fio's random map, so the FUSE cache never hits) or
	# RAND_SECS, whichever ends first.  invalidate=0 keeps the native cache.
	if bench_t "$BENCH_STEP_TIMEOUT" dd if=/dev/zero of="$f" bs=1M count="$RAND_MB" conv=fsync status=none &&
		bench_drop_caches; then
		if [ -f "$BDIR/rand.dat" ]; then
			bench_t "$BENCH_STEP_TIMEOUT" cat "$BDIR/rand.dat" > /dev/null
		else
			bench_log "$t: warning: no $BDIR/rand.dat: the backend stays cold"
		fi
		out=$(bench_t $((RAND_SECS + 60)) fio --name=randread --filename="$f" --rw=randread \
			--bs=4k --ioengine=psync --size="${RAND_MB}M" --runtime="$RAND_SECS" \
			--invalidate=0 --fallocate=none --output-format=terse --terse-version=3 2> "$BENCH_LOGS/fio.err")
		# terse v3: field 5 = error, field 8 = read IOPS.
		if [ -n "$out" ] && [ "$(echo "$out" | cut -d';' -f5)" = 0 ]; then
			v=$(echo "$out" | cut -d';' -f8)
		else
			bench_log "$t: fio failed: $(head -c 500 "$BENCH_LOGS/fio.err")"
		fi
	fi
	rec "$t" randread "$v"
	bench_t "$BENCH_STEP_TIMEOUT" rm -f "$f"
}

# smallfiles PHASE T DIR KEY: one timed phase after dropping the caches
# (create: after a sync).
sf_phase() {
	local phase=$1 t=$2 d=$3 key=$4 el v=
	alive "$t" "$key" || return 1
	if { if [ "$phase" = create ]; then bench_t "$BENCH_STEP_TIMEOUT" sync; else bench_drop_caches; fi; } &&
		el=$(bench_t "$BENCH_STEP_TIMEOUT" "$BENCH_BIN/smallfiles" "$phase" "$d" "$NSMALL" 4096); then
		v=$(bench_div "$NSMALL" "$el" %.0f)
	fi
	rec "$t" "$key" "$v"
	[ -n "$v" ]
}

w_small() {
	local t=$1 d="$2/small" t0 el n v=
	alive "$t" sf_create || return 1
	bench_t 60 mkdir -p "$d" || { rec "$t" sf_create ""; return 1; }
	sf_phase create "$t" "$d" sf_create

	alive "$t" sf_ls || return 1
	if bench_drop_caches; then
		t0=$(bench_now)
		n=$(LC_ALL=C bench_t "$BENCH_STEP_TIMEOUT" ls -l "$d" | wc -l) && el=$(bench_elapsed "$t0")
		# "total N" plus one line per file
		if [ "$n" = $((NSMALL + 1)) ]; then
			v=$(awk -v s="$el" 'BEGIN { printf "%.1f", s * 1000 }')
		else
			bench_log "$t: ls -l listed $((n - 1)) entries, not $NSMALL"
		fi
	fi
	rec "$t" sf_ls "$v"

	sf_phase stat "$t" "$d" sf_stat
	sf_phase read "$t" "$d" sf_read
	sf_phase unlink "$t" "$d" sf_unlink
	bench_t "$BENCH_STEP_TIMEOUT" rm -rf "$d"
}

w_tree() {
	local t=$1 d="$2/tree" t0 el n v=
	alive "$t" tar_x || return 1
	bench_t 60 mkdir -p "$d" || { rec "$t" tar_x ""; return 1; }
	bench_t "$BENCH_STEP_TIMEOUT" sync
	cat "$TAR" > /dev/null # the tarball itself comes from the page cache
	t0=$(bench_now)
	if bench_t "$BENCH_STEP_TIMEOUT" tar xf "$TAR" --no-same-owner -C "$d"; then
		el=$(bench_elapsed "$t0")
		n=$(bench_t "$BENCH_STEP_TIMEOUT" find "$d" -mindepth 1 | wc -l)
		# tar lists a directory once; find as well: the counts must agree.
		if [ "$n" = "$TREE_N" ]; then
			v=$(bench_div "$TREE_N" "$el" %.0f)
		else
			bench_log "$t: extracted $n entries, the tarball has $TREE_N"
		fi
	fi
	rec "$t" tar_x "$v"

	alive "$t" tar_rm || return 1
	v=
	t0=$(bench_now)
	if bench_t "$BENCH_STEP_TIMEOUT" rm -rf "$d"; then
		el=$(bench_elapsed "$t0")
		bench_t 60 test -e "$d" && bench_log "$t: $d still exists after rm -rf" ||
			v=$(bench_div "$TREE_N" "$el" %.0f)
	fi
	rec "$t" tar_rm "$v"
}

run_target() {
	local t=$1 run=$2
	bench_log "run $run/$RUNS: $t"
	if ! target_up "$t"; then
		bench_log "$t: could not be set up; its results for this run are failures"
		local k
		for k in "${BENCH_WORKLOADS[@]}"; do rec "$t" "$k" ""; done
		target_down "$t"
		return 1
	fi
	local from k
	from=$(wc -l < "$BENCH_RAW")
	w_seq "$t" "$WDIR"
	w_rand "$t" "$WDIR"
	w_small "$t" "$WDIR"
	w_tree "$t" "$WDIR"
	# A step skipped because the daemon died counts as failed.
	for k in "${BENCH_WORKLOADS[@]}"; do
		tail -n +$((from + 1)) "$BENCH_RAW" | awk -F'\t' -v t="$t" -v k="$k" \
			'$1 == t && $2 == k { f = 1 } END { exit !f }' || rec "$t" "$k" ""
	done
	target_down "$t"
}

# --- main --------------------------------------------------------------------

prepare
bench_fusectl

avail=
for t in $TARGETS; do
	case "$t" in
	scopefs)
		if [ ! -x "$TOP/scopefs" ]; then
			bench_log "warning: $TOP/scopefs is not built: the scopefs column stays empty (make all)"
			continue
		fi
		;;
	esac
	avail+=" $t"
done

bench_log "local section: targets:$avail; $RUNS run(s)$([ -n "$QUICK" ] && echo ', QUICK sizes')"
bench_log "machine: $(bench_machine)"
bench_log "passthrough_hp options (its --help):"
"$BENCH_BIN/passthrough_hp" --help 2>&1 | sed 's/^/    /' >&2 || true

for ((RUN = 1; RUN <= RUNS; RUN++)); do
	for t in $avail; do
		run_target "$t" "$RUN"
	done
done

# --- the report -----------------------------------------------------------------

rss_max() {
	awk -F'\t' -v t="$1" '$1 == t && $2 == "rss" && $3 + 0 > m { m = $3 + 0 } END { if (m) printf "%.1f MiB", m; else print "n/a" }' "$BENCH_RAW"
}

report() {
	echo "# scopefs local benchmark, $(date '+%Y-%m-%d %H:%M')"
	echo
	echo "- machine: $(bench_machine)"
	echo "- runs: $RUNS per target, interleaved; median shown$([ -n "$QUICK" ] && echo '; BENCH_QUICK sizes')"
	echo "- passthrough_hp: libfuse $(dpkg-query -W -f='${Version}' libfuse3-dev 2>/dev/null) example, defaults" \
		"(multithreaded, writeback cache, 86400 s entry/attr timeouts, splice)," \
		"run as \`passthrough_hp --foreground${PT_OPTS:+ $PT_OPTS} SRC MNT\`"
	echo "- scopefs: \`scopefs mount -f CONF\`, [backend] plugin = local, [mount] scope = cloud${BENCH_SCOPEFS_MOUNT_KEYS:+ (+ $BENCH_SCOPEFS_MOUNT_KEYS)};" \
		"$("$TOP/scopefs" --version 2>/dev/null | head -n 1), binary of $(date -r "$TOP/scopefs" '+%Y-%m-%d %H:%M' 2>/dev/null)$(git -C "$TOP" rev-parse --short HEAD 2>/dev/null | sed 's/^/, tree at commit /')"
	echo "- ratios are speed ratios: > 1.00 means scopefs is faster (for the ms row: the other's time / scopefs's time)"
	echo "- cold: \`sync; echo 3 > /proc/sys/vm/drop_caches\` just before the step (writes and creates: \`sync\` only);" \
		"backend warm: the same, then the backing file read natively, so the target's own cache is cold but no disk is involved"
	echo
	bench_table "native passthrough_hp scopefs" "scopefs/native scopefs/passthrough_hp"
	echo
	echo "Peak daemon RSS (VmHWM just before SIGTERM, max over runs): passthrough_hp $(rss_max passthrough_hp), scopefs $(rss_max scopefs)"
	if [ "$RUNS" -gt 1 ]; then
		echo
		echo "Every run, in order (the spread says how far to trust a median):"
		echo
		bench_table_runs "native passthrough_hp scopefs"
	fi
}

out="$RESULTS/local-$STAMP.md"
report > "$out"
cp "$BENCH_RAW" "$RESULTS/local-$STAMP.tsv"
echo
cat "$out"
echo
bench_log "written: ${out#"$TOP"/} (raw numbers: ${out%.md}.tsv)"
if grep -q 'fail' "$BENCH_RAW"; then
	bench_log "some steps failed: see the log above and $BENCH_LOGS"
	exit 1
fi
exit 0
