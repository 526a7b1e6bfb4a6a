#!/bin/bash
# bench/objstore.sh: one object-store section of `make bench`, for the store
# BENCH_STORE names (bench/s3.sh and bench/azblob.sh set it).  The same
# workloads run, in one go, against one local server of that store through
# several FUSE clients, each under its own prefix; bench/store-KIND.sh says
# what differs per store: the server, the clients and their configuration,
# how to see what is in the store, and how to tell a listing on the wire.
# Every tool talks to the server through bench/s3-countproxy.c, which logs
# one line per request: the request counts by method come from there.
#
# Workloads (each daemon freshly mounted for each run; runs interleaved:
# run 1 on every tool, then run 2, ...; the tables show medians):
#   sequential write of SEQ_S and SEQ_L MiB (dd bs=1M conv=fsync): MB/s to
#     the end of close, and MB/s until the object is in the store (rclone's
#     writes mode returns from close before the upload);
#   sequential read of each file after a remount and a page cache drop;
#   NSMALL files of 4 KiB (bench/smallfiles.c): create (to close and until
#     in the store), `ls -l` after a remount, stat, read, unlink each;
#   a source tarball (TREE_N entries of /usr/include, regular files and
#     directories only): tar xf (to exit and until in the store), then
#     rm -rf after a remount;
#   the requests each workload sent, by method; peak daemon RSS (VmHWM).
# "Until in the store" asks the server directly, never through the proxy,
# so the polling sends no counted request (store-KIND.sh says how).
#
# Environment (run.sh documents the common ones):
#   BENCH_RUNS=3            runs per tool (median taken)
#   BENCH_QUICK=1           small sizes and 1 run: a smoke test
#   BENCH_DIR=bench/work    data, mount points, logs (this section uses
#                           BENCH_DIR/KIND)
#   BENCH_<KIND>_TARGETS    subset/order of the tools (store-KIND.sh)
#   BENCH_<KIND>_SCOPEFS_KEYS  extra "key = value" lines for scopefs's
#                           [backend] section, separated by ';'
# Needs root.  Writes bench/results/KIND-DATE.md (raw numbers in
# KIND-DATE.tsv) and prints it; the proxy's request log stays in
# BENCH_DIR/logs/KIND-requests.log with "# begin/end TOOL WORKLOAD" markers.
set -u -o pipefail

BENCH_HOME=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$BENCH_HOME")
# shellcheck source=bench/lib.sh
. "$BENCH_HOME/lib.sh"
KIND=${BENCH_STORE:?set BENCH_STORE (s3, azblob, gcs), or run bench/s3.sh, bench/azblob.sh or bench/gcs.sh}
# shellcheck source=bench/store-s3.sh
. "$BENCH_HOME/store-$KIND.sh" || exit 1

QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then
	RUNS=${BENCH_RUNS:-1}
	SEQ_S=16 SEQ_L=64 NSMALL=200 TREE_N=400
else
	RUNS=${BENCH_RUNS:-3}
	SEQ_S=256 SEQ_L=1024 NSMALL=1000 TREE_N=4000
fi
SDIR="$BENCH_DIR/$KIND"
MNT="$SDIR/mnt"
CACHE="$SDIR/cache"
RUN_DIR="$SDIR/server"
REQLOG="$BENCH_LOGS/$KIND-requests.log"
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS="$BENCH_HOME/results"
BENCH_RAW="$BENCH_DIR/$KIND-raw.tsv"
# Request categories, in table order.  LIST: a listing (store_is_list);
# COPY: a server-side copy (the proxy marks its copy-source header).
METHODS="LIST HEAD GET PUT POST COPY DELETE"

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

# The tools must reach 127.0.0.1 directly and use only the keys given here.
unset http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy
store_env

PROXY_PID=
# The EXIT trap.  Only the main shell cleans up: bash also runs the EXIT
# trap in a subshell ($(...), a pipeline) that dies of a signal, and such a
# subshell must not stop the server under the main shell's feet.
cleanup() {
	[ "$BASHPID" = "$$" ] || return 0
	bench_cleanup
	if [ -n "$PROXY_PID" ]; then
		kill "$PROXY_PID" 2>/dev/null
		wait "$PROXY_PID" 2>/dev/null
	fi
	if [ -n "${SERVERS_UP:-}" ]; then
		stop_all
	fi
	return 0
}
trap 'cleanup' EXIT
trap 'bench_log "interrupted"; exit 130' INT
trap 'bench_log "terminated"; exit 143' TERM

mkdir -p "$BENCH_BIN" "$BENCH_LOGS" "$MNT" "$CACHE" "$RESULTS"
: > "$BENCH_RAW"
bench_timeout_reset

# --- the workloads ----------------------------------------------------------

size_label() { [ "$1" -ge 1024 ] && echo "$(($1 / 1024)) GiB" || echo "$1 MiB"; }
bench_workload seqw_s "write $(size_label $SEQ_S) (dd bs=1M conv=fsync), to close" MB/s higher
bench_workload seqwd_s "write $(size_label $SEQ_S), until in the store" MB/s higher
bench_workload seqw_l "write $(size_label $SEQ_L), to close" MB/s higher
bench_workload seqwd_l "write $(size_label $SEQ_L), until in the store" MB/s higher
bench_workload seqr_s "read $(size_label $SEQ_S), cold (remount)" MB/s higher
bench_workload seqr_l "read $(size_label $SEQ_L), cold (remount)" MB/s higher
bench_workload sf_create "$NSMALL × 4 KiB files: create, to close" files/s higher
bench_workload sf_created "$NSMALL files: create, until in the store" files/s higher
bench_workload sf_ls "$NSMALL files: \`ls -l\`, cold (remount)" ms lower
bench_workload sf_stat "$NSMALL files: stat each" files/s higher
bench_workload sf_read "$NSMALL files: read each" files/s higher
bench_workload sf_unlink "$NSMALL files: delete each" files/s higher
# tar_x, tar_xd, tar_rm: declared by prepare (the label has the entry count)
BENCH_WL_UNIT[rss]=MiB

# The server alone, once per run (store_ceiling; CEIL_KEYS and CEIL_LABEL
# from store-KIND.sh, empty where the section has no such probe).
for k in $CEIL_KEYS; do
	case "$k" in *_MBps) BENCH_WL_UNIT[ceil_$k]=MB/s ;; *_ms) BENCH_WL_UNIT[ceil_$k]=ms ;; *) BENCH_WL_UNIT[ceil_$k]=req/s ;; esac
done

# Workloads whose requests are counted (the "until in the store" rows
# share the window of the row before them).
REQ_KEYS="seqw_s seqr_s seqw_l seqr_l sf_create sf_ls sf_stat sf_read sf_unlink tar_x tar_rm"

# --- preparation ------------------------------------------------------------

prepare() {
	local tar="$BENCH_DIR/tree-$TREE_N.tar"

	if [ ! -x "$BENCH_BIN/smallfiles" ] || [ "$BENCH_HOME/smallfiles.c" -nt "$BENCH_BIN/smallfiles" ]; then
		bench_log "compiling bench/smallfiles.c"
		bench_t 120 "${CC:-cc}" -O2 -Wall -Wextra -o "$BENCH_BIN/smallfiles" "$BENCH_HOME/smallfiles.c" ||
			bench_die "cannot compile bench/smallfiles.c"
	fi
	if [ ! -x "$BENCH_BIN/s3-countproxy" ] || [ "$BENCH_HOME/s3-countproxy.c" -nt "$BENCH_BIN/s3-countproxy" ]; then
		bench_log "compiling bench/s3-countproxy.c"
		bench_t 120 "${CC:-cc}" -O2 -Wall -Wextra -pthread -o "$BENCH_BIN/s3-countproxy" \
			"$BENCH_HOME/s3-countproxy.c" || bench_die "cannot compile bench/s3-countproxy.c"
	fi
	# The first TREE_N entries (in name order, so every directory comes
	# before its contents; the first is include/ itself) of /usr/include
	# that are directories or regular files: no symlinks, which rclone does
	# not store by default.
	if [ ! -s "$tar" ] || [ ! -s "$tar.info" ]; then
		bench_log "making $tar ($TREE_N entries of /usr/include)"
		(cd /usr && LC_ALL=C find include \( -type d -o -type f \) | LC_ALL=C sort | head -n "$TREE_N") > "$tar.list"
		[ "$(wc -l < "$tar.list")" = "$TREE_N" ] || bench_die "/usr/include has fewer than $TREE_N entries"
		bench_t "$BENCH_STEP_TIMEOUT" tar cf "$tar.tmp" --no-recursion -C /usr -T "$tar.list" ||
			bench_die "cannot make the tarball"
		# entries, regular files, their bytes
		LC_ALL=C tar tvf "$tar.tmp" | awk '{ n++ } /^-/ { f++; b += $3 } END { print n, f, b }' > "$tar.info"
		mv "$tar.tmp" "$tar"
		rm -f "$tar.list"
	fi
	TAR=$tar
	read -r TREE_N TREE_FILES TREE_BYTES < "$tar.info"
	bench_workload tar_x "source tree ($TREE_N entries, $TREE_FILES files, $((TREE_BYTES / 1000000)) MB): \`tar xf\`, to exit" entries/s higher
	bench_workload tar_xd "source tree: \`tar xf\`, until in the store" entries/s higher
	bench_workload tar_rm "source tree: \`rm -rf\`, cold (remount)" entries/s higher
}

start_server() {
	export RUN_DIR
	# shellcheck source=tests/servers/servers.sh
	. "$TOP/tests/servers/servers.sh"
	rm -rf "$RUN_DIR"
	mkdir -p "$RUN_DIR"
	# install.sh is quick when node_modules is current.
	bench_t 900 "$TOP/tests/servers/install.sh" || bench_die "cannot install the test servers (tests/servers/install.sh)"
	SERVERS_UP=1
	store_start # sets SERVER_PORT
	PROXY_PORT=$(free_port) || bench_die "no free port for the counting proxy"
	ENDPOINT="http://127.0.0.1:$PROXY_PORT"
	bench_log "the $KIND server on 127.0.0.1:$SERVER_PORT (data in $RUN_DIR), the counting proxy on :$PROXY_PORT"
	: > "$REQLOG"
	"$BENCH_BIN/s3-countproxy" "$PROXY_PORT" "$SERVER_PORT" "$REQLOG" > "$BENCH_LOGS/$KIND-countproxy.out" 2>&1 &
	PROXY_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$BENCH_LOGS/$KIND-countproxy.out" 2>/dev/null && return 0
		kill -0 "$PROXY_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$BENCH_LOGS/$KIND-countproxy.out" >&2
	bench_die "the counting proxy did not start"
}

# --- the tools ------------------------------------------------------------------
# store-KIND.sh gives tool_prefix (where each tool's objects live),
# write_configs and tool_cmd; the scopefs line of tool_version is common.

tool_version() {
	case "$1" in
	scopefs)
		# Other work may rebuild the binary: name the build measured.
		echo "$("$SNAP/scopefs" --version 2>&1 | head -n 1), binary built $(date -r "$SNAP/scopefs" '+%Y-%m-%d %H:%M')" \
			"(tree at the start of the runs: $SNAP_TREE), defaults of the object layer"
		;;
	s3fs) s3fs --version 2>&1 | head -n 1 | sed 's/ (commit.*//' ;;
	rclone*) rclone version 2>&1 | head -n 1 ;;
	esac
}

# tool_start T: mount T (fresh cache directory).  Sets PID, BENCH_FUSE_MNT.
PID=
tool_start() {
	local t=$1 mnt="$MNT/$1"
	bench_is_mounted "$mnt" && { bench_log "$mnt is still mounted"; return 1; }
	# An empty mount point (s3fs refuses others) and an empty cache.
	rm -rf "${CACHE:?}/$t" "${mnt:?}" && mkdir -p "$CACHE/$t" "$mnt" || return 1
	# (word splitting of tool_cmd is intended: no path here has blanks)
	# shellcheck disable=SC2046
	if ! bench_daemon_start "$t" "$mnt" "$BENCH_LOGS/$KIND-$t.log" $(tool_cmd "$t"); then
		# (bench_daemon_start has stopped it, or it exited by itself)
		kill -0 "$BENCH_PID" 2>/dev/null || forget_pid "$BENCH_PID"
		PID=''
		return 1
	fi
	PID=$BENCH_PID BENCH_FUSE_MNT=$mnt
}

# tool_stop T: note the daemon's VmHWM in RSS_KB (the max over the run),
# unmount with fusermount3 -u and wait for the daemon to exit; after 30 s
# SIGTERM, then SIGKILL (bench_daemon_stop).
RSS_KB=0 SERVED=''
tool_stop() {
	local t=$1 mnt="$MNT/$1" hwm i
	[ -n "$PID" ] || return 0
	hwm=$(bench_hwm "$PID")
	[ -n "$hwm" ] && [ "$hwm" -gt "$RSS_KB" ] && RSS_KB=$hwm
	bench_is_mounted "$mnt" && { timeout 30 fusermount3 -u "$mnt" 2>/dev/null || bench_log "$t: fusermount3 -u failed"; }
	for ((i = 0; i < 300; i++)); do
		kill -0 "$PID" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$PID" 2>/dev/null || bench_is_mounted "$mnt"; then
		bench_log "$t: daemon $PID still there 30 s after the unmount"
		bench_daemon_stop "$PID" "$mnt"
	fi
	wait "$PID" 2>/dev/null
	bench_log "  $t: daemon $PID served$SERVED; its VmHWM: $(bench_div "${hwm:-0}" 1024 %.1f) MiB"
	forget_pid "$PID"
	PID='' BENCH_FUSE_MNT='' SERVED=''
}

# Drop a daemon that is gone from lib.sh's lists: bench_cleanup must never
# signal a pid that another process may have been given since.
forget_pid() {
	local i
	for i in "${!BENCH_PIDS[@]}"; do
		[ "${BENCH_PIDS[$i]}" = "$1" ] && unset 'BENCH_PIDS[i]' 'BENCH_MNTS[i]'
	done
	return 0
}

# Unmount, forget every cache (the tool's own cache directory and the
# kernel's page, dentry and inode caches), mount again.
tool_remount() {
	tool_stop "$1"
	bench_drop_caches
	tool_start "$1"
}

tool_ok() {
	bench_timed_out && return 1
	if ! kill -0 "$PROXY_PID" 2>/dev/null || ! store_alive; then
		bench_die "the $KIND server or the counting proxy is gone (see $RUN_DIR)"
	fi
	[ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && bench_is_mounted "$MNT/$1"
}

# --- the store and the requests ----------------------------------------------------

# wait_store DIR COUNT BYTES [NAME]: until the objects are in the store
# (or BENCH_STEP_TIMEOUT passes).
wait_store() {
	local want="$2 $3" deadline=$((SECONDS + BENCH_STEP_TIMEOUT)) start=$SECONDS got
	while :; do
		got=$(store_stat "$1" "${4:-}")
		[ "$got" = "$want" ] && return 0
		if [ $SECONDS -ge $deadline ]; then
			bench_log "the store has '$got' (objects, bytes) under $1, not '$want', after ${BENCH_STEP_TIMEOUT}s"
			touch "$BENCH_DIR/.timed-out"
			return 1
		fi
		# Poll often at first (a durable-on-close tool is done at once),
		# then less: looking at thousands of objects costs CPU that the
		# tool uploading in the background needs.
		if [ $((SECONDS - start)) -lt 2 ]; then sleep 0.02; else sleep 0.2; fi
	done
}

# req_begin T KEY ... req_end: count the requests in between.  The markers
# go into the proxy's log (O_APPEND both, whole lines).
REQ_FROM=0
req_begin() {
	SERVED+=" $2"
	echo "# begin $1 $2" >> "$REQLOG"
	REQ_FROM=$(wc -l < "$REQLOG")
}
req_end() {
	local t=$1 key=$2
	tail -n +$((REQ_FROM + 1)) "$REQLOG" | awk -v t="$t" -v k="$key" -v b="$LIST_PATH" -v q="$LIST_QUERY" -v methods="$METHODS" '
		/^#/ { next }
		{
			p = $2; sub(/\?.*/, "", p)
			if ($3 == "copy") c = "COPY"
			else if ($1 == "GET" && b != "" && (p == b || p == b "/")) c = "LIST"
			else if ($1 == "GET" && q != "" && index($2, q)) c = "LIST"
			else c = $1
			n[c]++
		}
		END {
			split(methods, m, " ")
			for (i = 1; i in m; i++) printf "%s\treq:%s:%s\t%d\n", t, k, m[i], n[m[i]] + 0
			for (c in n) if (methods !~ ("(^| )" c "( |$)")) printf "%s\treq:%s:OTHER\t%d\n", t, k, n[c]
		}' >> "$BENCH_RAW"
	echo "# end $t $key" >> "$REQLOG"
}

# --- one run of every workload on one tool ------------------------------------------

rec() { bench_record "$1" "$2" "${3:-fail}"; }

# alive T KEY: false (after recording KEY as "fail") when the tool is dead.
alive() {
	tool_ok "$1" && return 0
	bench_log "$1: daemon or mount gone, or a step timed out, before $2"
	rec "$1" "$2" ""
	return 1
}

# mbps BYTES SECONDS
mbps() { awk -v b="$1" -v s="$2" 'BEGIN { if (s > 0) printf "%.1f", b / s / 1e6; else print "" }'; }

# w_seq T MiB KEY-SUFFIX
w_seq() {
	local t=$1 mb=$2 sfx=$3 d="$MNT/$1/seq" name="f$2.dat" pfx bytes=$(($2 * 1048576)) t0 el eld v vd size
	pfx="$(tool_prefix "$t")/seq"
	alive "$t" "seqw_$sfx" || return 1
	bench_t 60 mkdir -p "$d"
	v='' vd=''
	if bench_drop_caches; then
		req_begin "$t" "seqw_$sfx"
		t0=$(bench_now)
		if bench_t "$BENCH_STEP_TIMEOUT" dd if=/dev/zero of="$d/$name" bs=1M count="$mb" conv=fsync status=none; then
			el=$(bench_elapsed "$t0")
			wait_store "$pfx" 1 "$bytes" "$name" && eld=$(bench_elapsed "$t0") &&
				v=$(mbps "$bytes" "$el") && vd=$(mbps "$bytes" "$eld")
		fi
		req_end "$t" "seqw_$sfx"
	fi
	rec "$t" "seqw_$sfx" "$v"
	rec "$t" "seqwd_$sfx" "$vd"

	tool_remount "$t"
	alive "$t" "seqr_$sfx" || return 1
	v=
	size=$(bench_t 60 stat -c %s "$d/$name" 2>/dev/null)
	if [ "$size" != "$bytes" ]; then
		bench_log "$t: $d/$name has size '${size}', not $bytes"
	elif bench_drop_caches; then
		req_begin "$t" "seqr_$sfx"
		t0=$(bench_now)
		# dd reports the bytes it copied: they must be the whole file.
		if size=$(bench_t "$BENCH_STEP_TIMEOUT" dd if="$d/$name" of=/dev/null bs=1M 2>&1 | awk '/bytes/ { print $1 }'); then
			el=$(bench_elapsed "$t0")
			[ "$size" = "$bytes" ] && v=$(mbps "$bytes" "$el") || bench_log "$t: read $size bytes, not $bytes"
		fi
		req_end "$t" "seqr_$sfx"
	fi
	rec "$t" "seqr_$sfx" "$v"
	bench_t "$BENCH_STEP_TIMEOUT" rm -f "$d/$name"
}

# sf_phase PHASE T DIR KEY: one timed phase of bench/smallfiles.c, cold.
sf_phase() {
	local phase=$1 t=$2 d=$3 key=$4 el v=
	alive "$t" "$key" || return 1
	if bench_drop_caches; then
		req_begin "$t" "$key"
		el=$(bench_t "$BENCH_STEP_TIMEOUT" "$BENCH_BIN/smallfiles" "$phase" "$d" "$NSMALL" 4096) &&
			v=$(bench_div "$NSMALL" "$el" %.0f)
		req_end "$t" "$key"
	fi
	rec "$t" "$key" "$v"
	[ -n "$v" ]
}

w_small() {
	local t=$1 d="$MNT/$1/small" pfx t0 el eld n v='' vd=''
	pfx="$(tool_prefix "$t")/small"
	alive "$t" sf_create || return 1
	bench_t 60 mkdir -p "$d" || { rec "$t" sf_create ""; return 1; }
	if bench_drop_caches; then
		req_begin "$t" sf_create
		t0=$(bench_now)
		if el=$(bench_t "$BENCH_STEP_TIMEOUT" "$BENCH_BIN/smallfiles" create "$d" "$NSMALL" 4096); then
			# el: the program's own timing; eld: from the same start, till stored
			wait_store "$pfx" "$NSMALL" $((NSMALL * 4096)) && eld=$(bench_elapsed "$t0") &&
				v=$(bench_div "$NSMALL" "$el" %.0f) && vd=$(bench_div "$NSMALL" "$eld" %.0f)
		fi
		req_end "$t" sf_create
	fi
	rec "$t" sf_create "$v"
	rec "$t" sf_created "$vd"

	tool_remount "$t"
	alive "$t" sf_ls || return 1
	v=
	req_begin "$t" sf_ls
	t0=$(bench_now)
	n=$(LC_ALL=C bench_t "$BENCH_STEP_TIMEOUT" ls -l "$d" | wc -l) && el=$(bench_elapsed "$t0")
	req_end "$t" sf_ls
	# "total N" plus one line per file
	if [ "$n" = $((NSMALL + 1)) ]; then
		v=$(awk -v s="$el" 'BEGIN { printf "%.1f", s * 1000 }')
	else
		bench_log "$t: ls -l listed $((n - 1)) entries, not $NSMALL"
	fi
	rec "$t" sf_ls "$v"

	sf_phase stat "$t" "$d" sf_stat
	sf_phase read "$t" "$d" sf_read
	sf_phase unlink "$t" "$d" sf_unlink
	bench_t "$BENCH_STEP_TIMEOUT" rm -rf "$d"
}

w_tree() {
	local t=$1 d="$MNT/$1/tree" pfx t0 el eld v='' vd='' left rc
	pfx="$(tool_prefix "$t")/tree"
	alive "$t" tar_x || return 1
	bench_t 60 mkdir -p "$d" || { rec "$t" tar_x ""; return 1; }
	bench_drop_caches
	cat "$TAR" > /dev/null # the tarball itself comes from the page cache
	req_begin "$t" tar_x
	t0=$(bench_now)
	if bench_t "$BENCH_STEP_TIMEOUT" tar xf "$TAR" --no-same-owner -C "$d"; then
		el=$(bench_elapsed "$t0")
		# every file in the store, with its size: the extraction is complete
		wait_store "$pfx" "$TREE_FILES" "$TREE_BYTES" && eld=$(bench_elapsed "$t0") &&
			v=$(bench_div "$TREE_N" "$el" %.0f) && vd=$(bench_div "$TREE_N" "$eld" %.0f)
	fi
	req_end "$t" tar_x
	rec "$t" tar_x "$v"
	rec "$t" tar_xd "$vd"

	tool_remount "$t"
	alive "$t" tar_rm || return 1
	v=
	req_begin "$t" tar_rm
	t0=$(bench_now)
	bench_t "$BENCH_STEP_TIMEOUT" rm -rf "$d"
	rc=$?
	el=$(bench_elapsed "$t0")
	req_end "$t" tar_rm
	left=$(store_stat "$pfx")
	if [ $rc -ne 0 ]; then
		bench_log "$t: rm -rf failed (exit $rc) after $el s; the store still has '$left' (objects, bytes) under $pfx"
	elif bench_t 60 test -e "$d"; then
		bench_log "$t: $d still exists after rm -rf"
	elif [ "$left" != "0 0" ]; then
		bench_log "$t: the store still has '$left' (objects, bytes) under $pfx after rm -rf"
	else
		v=$(bench_div "$TREE_N" "$el" %.0f)
	fi
	rec "$t" tar_rm "$v"
}

run_tool() {
	local t=$1 run=$2 from k top
	bench_log "run $run/$RUNS: $t"
	bench_timeout_reset
	RSS_KB=0
	top=$(tool_prefix "$t")
	top=${top%%/*}
	store_clear "$top"
	from=$(wc -l < "$BENCH_RAW")
	if tool_start "$t"; then
		w_seq "$t" "$SEQ_S" s
		w_seq "$t" "$SEQ_L" l
		w_small "$t"
		w_tree "$t"
	else
		bench_log "$t: could not be mounted; its results for this run are failures"
	fi
	tool_stop "$t"
	[ "$RSS_KB" -gt 0 ] && bench_record "$t" rss "$(bench_div "$RSS_KB" 1024 %.1f)"
	# A step skipped because the daemon died counts as failed.
	for k in "${BENCH_WORKLOADS[@]}"; do
		tail -n +$((from + 1)) "$BENCH_RAW" | awk -F'\t' -v t="$t" -v k="$k" \
			'$1 == t && $2 == k { f = 1 } END { exit !f }' || rec "$t" "$k" ""
	done
	# Leave nothing for the next tool or run (the daemon is gone).
	store_clear "$top"
}

# --- the report -----------------------------------------------------------------------

declare -A NAME=([scopefs]=scopefs [s3fs]=s3fs [rclone_off]="rclone off" [rclone_writes]="rclone writes")

# The best peer's median for KEY: "VALUE TOOL", or "n/a".
best_peer() {
	local key=$1 p m best='' bt=''
	for p in $PEERS; do
		case " $AVAIL " in *" $p "*) ;; *) continue ;; esac
		m=$(bench_median "$p" "$key")
		case "$m" in '' | *[!0-9.eE+-]*) continue ;; esac
		if [ -z "$best" ] || awk -v a="$m" -v b="$best" -v h="${BENCH_WL_BETTER[$key]}" \
			'BEGIN { exit !((h == "lower") ? a < b : a > b) }'; then
			best=$m bt=$p
		fi
	done
	[ -n "$best" ] && echo "$best $bt" || echo "n/a"
}

perf_table() {
	local key t line m best bt
	line="| workload | unit |"
	for t in $AVAIL; do line+=" ${NAME[$t]} |"; done
	[ -n "$FIRST_PEER" ] && line+=" scopefs/${NAME[$FIRST_PEER]} |"
	echo "$line scopefs/best peer |"
	line="|---|---|"
	for t in $AVAIL; do line+="---:|"; done
	[ -n "$FIRST_PEER" ] && line+="---:|"
	echo "$line---|"
	for key in "${BENCH_WORKLOADS[@]}"; do
		line="| ${BENCH_WL_LABEL[$key]} | ${BENCH_WL_UNIT[$key]} |"
		for t in $AVAIL; do line+=" $(bench_fmt "$(bench_median "$t" "$key")") |"; done
		[ -n "$FIRST_PEER" ] &&
			line+=" $(bench_ratio "$(bench_median scopefs "$key")" "$(bench_median "$FIRST_PEER" "$key")" "${BENCH_WL_BETTER[$key]}") |"
		read -r best bt <<< "$(best_peer "$key")"
		if [ "$best" = n/a ]; then
			line+=" — |"
		else
			line+=" $(bench_ratio "$(bench_median scopefs "$key")" "$best" "${BENCH_WL_BETTER[$key]}") (${NAME[$bt]}) |"
		fi
		echo "$line"
	done
}

# A count: an integer, or one decimal for a median of two runs.
fmt_count() { awk -v v="$1" 'BEGIN { if (v == int(v)) printf "%d", v; else printf "%.1f", v }'; }

# One cell: "1 LIST, 1000 HEAD" (medians per method; "—" for none).
req_cell() {
	local t=$1 key=$2 m v cell='' total=0
	for m in $METHODS OTHER; do
		v=$(bench_median "$t" "req:$key:$m")
		case "$v" in '' | n/a | fail) continue ;; esac
		awk -v v="$v" 'BEGIN { exit !(v > 0) }' || continue
		cell+="${cell:+, }$(fmt_count "$v") $m"
		total=$(awk -v a="$total" -v b="$v" 'BEGIN { print a + b }')
	done
	if [ -z "$cell" ]; then
		[ "$(bench_median "$t" "req:$key:LIST")" = n/a ] && echo "n/a" || echo "none"
	else
		echo "$cell (= $(fmt_count "$total"))"
	fi
}

req_table() {
	local key t line
	line="| workload |"
	for t in $AVAIL; do line+=" ${NAME[$t]} |"; done
	echo "$line"
	line="|---|"
	for t in $AVAIL; do line+="---|"; done
	echo "$line"
	for key in $REQ_KEYS; do
		line="${BENCH_WL_LABEL[$key]%, to close}"
		line="| ${line%, to exit} |"
		for t in $AVAIL; do line+=" $(req_cell "$t" "$key") |"; done
		echo "$line"
	done
}

ceil_table() {
	local k line1="|" line2="|" line3="|"
	for k in $CEIL_KEYS; do
		line1+=" ${CEIL_LABEL[$k]} |"
		line2+="---:|"
		line3+=" $(bench_fmt "$(bench_median server "ceil_$k")") ${BENCH_WL_UNIT[ceil_$k]} |"
	done
	printf '%s\n%s\n%s\n' "$line1" "$line2" "$line3"
}

rss_max() {
	awk -F'\t' -v t="$1" '$1 == t && $2 == "rss" && $3 + 0 > m { m = $3 + 0 } END { if (m) printf "%.1f MiB", m; else print "n/a" }' "$BENCH_RAW"
}

report() {
	local t line=''
	echo "# scopefs $KIND benchmark, $(date '+%Y-%m-%d %H:%M')"
	echo
	echo "- machine: $(bench_machine)"
	echo "- server: $(store_describe) on 127.0.0.1, data on the same disk; every tool reaches it through bench/s3-countproxy (one loopback hop, the same for all)"
	echo "- runs: $RUNS per tool, interleaved; median shown$([ -n "$QUICK" ] && echo '; BENCH_QUICK sizes')"
	for t in $AVAIL; do
		echo "- ${NAME[$t]}: $(tool_version "$t"); \`$(tool_cmd "$t" | sed "s|$TOP/||g")\`"
	done
	echo "- cold: the daemon unmounted and mounted again (its cache directory emptied), then \`sync; echo 3 > /proc/sys/vm/drop_caches\`; the stat, read and delete phases only drop the kernel caches"
	echo "- until in the store: from the same start until $(store_stat_describe) holds every object with its full size (polled every 20 ms, after 2 s every 200 ms)"
	echo "- rclone writes: close returns once the file is in its local cache; the upload starts after --vfs-write-back (default 5 s), so its \"to close\" rows are not durable: compare durability on the \"until in the store\" rows"
	echo "- ratios are speed ratios: > 1.00 means scopefs is faster (for the ms row: the other's time / scopefs's time)"
	echo
	perf_table
	echo
	if [ -n "$CEIL_KEYS" ]; then
		echo "The server alone ($CEIL_WHAT; medians):"
		echo
		ceil_table
		echo
	fi
	echo "Requests per workload (median per method; $REQ_WHAT; writes include the requests until the objects are in the store):"
	echo
	req_table
	echo
	for t in $AVAIL; do line+="${line:+, }${NAME[$t]} $(rss_max "$t")"; done
	echo "Peak daemon RSS (VmHWM before each unmount, max over the mounts of all runs): $line"
}

# --- main -----------------------------------------------------------------------------

prepare

AVAIL=
for t in $TARGETS; do
	case "$t" in
	scopefs)
		[ -x "$TOP/scopefs" ] && [ -e "$TOP/plugins/$KIND/scopefs-$KIND.so" ] ||
			{ bench_log "warning: scopefs or its $KIND plugin is not built: no scopefs column (make all)"; continue; }
		;;
	s3fs) command -v s3fs > /dev/null || { bench_log "warning: no s3fs (scripts/install-deps.sh bench)"; continue; } ;;
	rclone_off | rclone_writes) command -v rclone > /dev/null || { bench_log "warning: no rclone (scripts/install-deps.sh bench)"; continue; } ;;
	*) bench_log "warning: unknown tool '$t' skipped"; continue ;;
	esac
	AVAIL+=" $t"
done
AVAIL=${AVAIL# }
[ -n "$AVAIL" ] || bench_die "no tool to measure"
command -v python3 > /dev/null || bench_die "python3 is needed"
FIRST_PEER=
for t in $PEERS; do case " $AVAIL " in *" $t "*) FIRST_PEER=$t; break ;; esac; done

# A copy of scopefs and its plugin, taken now: a rebuild during the runs
# must not mix two builds in one table.
SNAP="$BENCH_BIN/$KIND-scopefs"
SNAP_TREE=$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')
case " $AVAIL " in *" scopefs "*)
	rm -rf "$SNAP" && mkdir -p "$SNAP/$KIND" &&
		cp -p "$TOP/scopefs" "$SNAP/scopefs" && cp -p "$TOP/plugins/$KIND/scopefs-$KIND.so" "$SNAP/$KIND/" ||
		bench_die "cannot copy scopefs and its $KIND plugin to $SNAP"
	;;
esac

start_server
write_configs
bench_log "$KIND section: tools: $AVAIL; $RUNS run(s)$([ -n "$QUICK" ] && echo ', QUICK sizes')"
bench_log "machine: $(bench_machine)"

for ((run = 1; run <= RUNS; run++)); do
	[ -n "$CEIL_KEYS" ] && store_ceiling "$run"
	for t in $AVAIL; do
		run_tool "$t" "$run"
	done
done

out="$RESULTS/$KIND-$STAMP.md"
report > "$out"
cp "$BENCH_RAW" "$RESULTS/$KIND-$STAMP.tsv"
echo
cat "$out"
echo
bench_log "written: ${out#"$TOP"/} (raw numbers: ${out%.md}.tsv; requests: $REQLOG)"
if grep -q 'fail' "$BENCH_RAW"; then
	bench_log "some steps failed: see the log above and $BENCH_LOGS/$KIND-*.log"
	exit 1
fi
exit 0
