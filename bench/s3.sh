#!/bin/bash
# bench/s3.sh: the s3 section of `make bench`.  The same workloads run, in
# one go, against one local S3 server (the patched @20minutes/s3rver of
# tests/servers, on its own port and data directory), through four FUSE
# clients, each under its own prefix of the bucket:
#   scopefs        ./scopefs, s3 plugin, scope = cloud (prefix scopefs/)
#   s3fs           Debian's s3fs-fuse (testbucket:/s3fs)
#   rclone_off     rclone mount, --vfs-cache-mode off (testbucket/rclone-off)
#   rclone_writes  rclone mount, --vfs-cache-mode writes (testbucket/rclone-writes)
# Every tool talks to the server through bench/s3-countproxy.c, which logs
# one line per request: the request counts by method come from there (the
# server's own log names neither the method nor the whole path).
#
# Workloads (each daemon freshly mounted for each run; runs interleaved:
# run 1 on every tool, then run 2, ...; the tables show medians):
#   sequential write of SEQ_S and SEQ_L MiB (dd bs=1M conv=fsync): MB/s to
#     the end of close, and MB/s until the object is in the server's store
#     (its data directory polled: rclone's writes mode returns from close
#     before the upload);
#   sequential read of each file after a remount and a page cache drop;
#   NSMALL files of 4 KiB (bench/smallfiles.c): create (to close and until
#     in the store), `ls -l` after a remount, stat, read, unlink each;
#   a source tarball (TREE_N entries of /usr/include, regular files and
#     directories only): tar xf (to exit and until in the store), then
#     rm -rf after a remount;
#   the requests each workload sent, by method; peak daemon RSS (VmHWM).
# "Until in the store" polls s3rver's data directory for the objects (count
# and bytes), not the server, so the polling itself sends no request.
# Each run starts with bench/s3-ceiling.py: the server alone, one request at
# a time (a big PUT and GET, and per-request rates for small objects), the
# bounds no FUSE client can pass by much here.
#
# Environment (run.sh documents the common ones):
#   BENCH_RUNS=3            runs per tool (median taken)
#   BENCH_QUICK=1           small sizes and 1 run: a smoke test
#   BENCH_DIR=bench/work    data, mount points, logs (this section uses
#                           BENCH_DIR/s3)
#   BENCH_S3_TARGETS        subset/order of "scopefs s3fs rclone_off rclone_writes"
#   BENCH_S3_PORT=19350     the S3 server's port; the proxy listens on +1
#   BENCH_S3_SCOPEFS_KEYS   extra "key = value" lines for scopefs's
#                           [backend] section, separated by ';'
# Needs root.  Writes bench/results/s3-DATE.md (raw numbers in
# s3-DATE.tsv) and prints it; the proxy's request log stays in
# BENCH_DIR/logs/s3-requests.log with "# begin/end TOOL WORKLOAD" markers.
set -u -o pipefail

BENCH_HOME=$(cd "$(dirname "$0")" && pwd)
TOP=$(dirname "$BENCH_HOME")
# shellcheck source=bench/lib.sh
. "$BENCH_HOME/lib.sh"

QUICK=${BENCH_QUICK:-0}
[ "$QUICK" = 0 ] && QUICK=
if [ -n "$QUICK" ]; then
	RUNS=${BENCH_RUNS:-1}
	SEQ_S=16 SEQ_L=64 NSMALL=200 TREE_N=400
else
	RUNS=${BENCH_RUNS:-3}
	SEQ_S=256 SEQ_L=1024 NSMALL=1000 TREE_N=4000
fi
TARGETS=${BENCH_S3_TARGETS:-scopefs s3fs rclone_off rclone_writes}
PEERS="s3fs rclone_off rclone_writes"
S3_PORT=${BENCH_S3_PORT:-19350}
PROXY_PORT=$((S3_PORT + 1))
BUCKET=testbucket
SDIR="$BENCH_DIR/s3"
MNT="$SDIR/mnt"
CACHE="$SDIR/cache"
RUN_DIR="$SDIR/server"
STORE="$RUN_DIR/s3data/$BUCKET"
REQLOG="$BENCH_LOGS/s3-requests.log"
STAMP=$(date +%Y%m%d-%H%M%S)
RESULTS="$BENCH_HOME/results"
BENCH_RAW="$BENCH_DIR/s3-raw.tsv"
# Request categories, in table order.  LIST: a GET on the bucket itself
# (ListObjects v1 or v2); COPY: a PUT with x-amz-copy-source.
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

# The tools must reach 127.0.0.1 directly and use only the keys given here
# (rclone's S3 SDK even fails on AWS_CA_BUNDLE with a custom endpoint).
unset AWS_CA_BUNDLE AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN \
	AWS_PROFILE AWS_DEFAULT_REGION AWS_REGION AWS_SHARED_CREDENTIALS_FILE AWS_CONFIG_FILE \
	http_proxy https_proxy HTTP_PROXY HTTPS_PROXY ALL_PROXY all_proxy

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

# The server alone (bench/s3-ceiling.py), once per run: its own limits.
CEIL_KEYS="put_MBps get_MBps mpu_MBps complete_ms put4k_s head_s get4k_s list_ms delete_s"
declare -A CEIL_LABEL=([put_MBps]="one PUT of $(size_label $SEQ_S)" [get_MBps]="one GET of it"
	[mpu_MBps]="it as a multipart upload, 8 MiB parts one at a time" [complete_ms]="its CompleteMultipartUpload alone"
	[put4k_s]="PUT 4 KiB" [head_s]="HEAD" [get4k_s]="GET 4 KiB" [list_ms]="LIST of $NSMALL keys" [delete_s]="DELETE")
for k in $CEIL_KEYS; do
	case "$k" in *_MBps) BENCH_WL_UNIT[ceil_$k]=MB/s ;; *_ms) BENCH_WL_UNIT[ceil_$k]=ms ;; *) BENCH_WL_UNIT[ceil_$k]=req/s ;; esac
done

# Workloads whose requests are counted (the "until in the store" rows
# share the window of the row before them).
REQ_KEYS="seqw_s seqr_s seqw_l seqr_l sf_create sf_ls sf_stat sf_read sf_unlink tar_x tar_rm"

# --- preparation ------------------------------------------------------------

prepare() {
	local tar="$BENCH_DIR/s3-tree-$TREE_N.tar"

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
	bench_log "starting s3rver on 127.0.0.1:$S3_PORT (data in $RUN_DIR) and the counting proxy on :$PROXY_PORT"
	export RUN_DIR S3_PORT
	# shellcheck source=tests/servers/servers.sh
	. "$TOP/tests/servers/servers.sh"
	rm -rf "$RUN_DIR"
	mkdir -p "$RUN_DIR"
	# install.sh is quick when node_modules is current; start_s3 runs it
	# again and bounds its own wait for the port (15 s).
	bench_t 900 "$TOP/tests/servers/install.sh" || bench_die "cannot install the test servers (tests/servers/install.sh)"
	SERVERS_UP=1
	start_s3 || bench_die "cannot start s3rver (see $RUN_DIR/s3.log)"
	: > "$REQLOG"
	"$BENCH_BIN/s3-countproxy" "$PROXY_PORT" "$S3_PORT" "$REQLOG" > "$BENCH_LOGS/s3-countproxy.out" 2>&1 &
	PROXY_PID=$!
	local i
	for ((i = 0; i < 50; i++)); do
		grep -q ready "$BENCH_LOGS/s3-countproxy.out" 2>/dev/null && return 0
		kill -0 "$PROXY_PID" 2>/dev/null || break
		sleep 0.1
	done
	cat "$BENCH_LOGS/s3-countproxy.out" >&2
	bench_die "the counting proxy did not start"
}

# --- the tools ------------------------------------------------------------------
# Each tool's objects live under STORE/$(tool_prefix T).

tool_prefix() {
	case "$1" in
	scopefs) echo scopefs/shared_storage ;; # prefix = scopefs, scope = cloud
	s3fs) echo s3fs ;;
	rclone_off) echo rclone-off ;;
	rclone_writes) echo rclone-writes ;;
	esac
}

ENDPOINT="http://127.0.0.1:$PROXY_PORT"

write_configs() {
	local conf="$SDIR/scopefs.conf"
	umask 077
	{
		echo "# generated by bench/s3.sh"
		echo "[scopefs]"
		echo "cache_dir = $CACHE/scopefs"
		echo "log_level = warn"
		echo
		echo "[backend s3]"
		echo "plugin = s3"
		echo "endpoint = $ENDPOINT"
		echo "bucket = $BUCKET"
		echo "prefix = scopefs"
		echo "access_key_id = S3RVER"
		echo "secret_access_key = S3RVER"
		[ -n "${BENCH_S3_SCOPEFS_KEYS:-}" ] && tr ';' '\n' <<< "$BENCH_S3_SCOPEFS_KEYS"
		echo
		echo "[mount $MNT/scopefs]"
		echo "backend = s3"
		echo "scope = cloud"
	} > "$conf"
	echo "S3RVER:S3RVER" > "$SDIR/s3fs.passwd"
	{
		echo "[bench]"
		echo "type = s3"
		echo "provider = Other"
		echo "env_auth = false"
		echo "access_key_id = S3RVER"
		echo "secret_access_key = S3RVER"
		echo "endpoint = $ENDPOINT"
		echo "region = us-east-1"
		echo "force_path_style = true"
	} > "$SDIR/rclone.conf"
	umask 022
	chmod 600 "$conf" "$SDIR/s3fs.passwd" "$SDIR/rclone.conf"
}

# The command line of each tool, in the foreground.
S3FS_OPTS="-o url=$ENDPOINT -o use_path_request_style -o sigv4 -o endpoint=us-east-1 -o passwd_file=$SDIR/s3fs.passwd -o tmpdir=$CACHE/s3fs -o dbglevel=warn"
RCLONE_OPTS="--config $SDIR/rclone.conf --log-level NOTICE"
tool_cmd() {
	local t=$1 mnt="$MNT/$1"
	case "$t" in
	scopefs) echo env SCOPEFS_PLUGIN_DIR="$SNAP" "$SNAP/scopefs" mount -f "$SDIR/scopefs.conf" ;;
	s3fs) echo s3fs "$BUCKET:/$(tool_prefix s3fs)" "$mnt" -f "$S3FS_OPTS" ;;
	rclone_off) echo rclone mount "bench:$BUCKET/$(tool_prefix "$t")" "$mnt" "$RCLONE_OPTS" --vfs-cache-mode off --cache-dir "$CACHE/$t" ;;
	rclone_writes) echo rclone mount "bench:$BUCKET/$(tool_prefix "$t")" "$mnt" "$RCLONE_OPTS" --vfs-cache-mode writes --cache-dir "$CACHE/$t" ;;
	esac
}

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
	if ! bench_daemon_start "$t" "$mnt" "$BENCH_LOGS/s3-$t.log" $(tool_cmd "$t"); then
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
	if ! kill -0 "$PROXY_PID" 2>/dev/null || ! kill -0 "$(cat "$RUN_DIR/s3.pid" 2>/dev/null)" 2>/dev/null; then
		bench_die "the S3 server or the counting proxy is gone (see $RUN_DIR/s3.log)"
	fi
	[ -n "$PID" ] && kill -0 "$PID" 2>/dev/null && bench_is_mounted "$MNT/$1"
}

# --- the store and the requests ----------------------------------------------------

# store_stat DIR [NAME]: "COUNT BYTES" of the objects under STORE/DIR (named
# NAME, if given).  Directory markers ("dir/") are not counted.
store_stat() {
	find "$STORE/$1" -name "${2:-?*}._S3rver_object" -printf '%s\n' 2>/dev/null |
		awk '{ n++; b += $1 } END { printf "%d %d\n", n, b }'
}

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
		# then less: find over thousands of objects costs CPU that the
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
	tail -n +$((REQ_FROM + 1)) "$REQLOG" | awk -v t="$t" -v k="$key" -v b="/$BUCKET" -v methods="$METHODS" '
		/^#/ { next }
		{
			p = $2; sub(/\?.*/, "", p)
			if ($3 == "copy") c = "COPY"
			else if ($1 == "GET" && (p == b || p == b "/")) c = "LIST"
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
		bench_log "$t: rm -rf failed (exit $rc) after $el s; the store still has '$left' (objects, bytes) under $pfx," \
			"and these markers: $(cd "$STORE/$pfx" 2>/dev/null && find . -name '._S3rver_object' -printf '%h/ ' | head -c 300)"
	elif bench_t 60 test -e "$d"; then
		bench_log "$t: $d still exists after rm -rf"
	elif [ "$left" != "0 0" ]; then
		bench_log "$t: the store still has '$left' (objects, bytes) under $pfx after rm -rf"
	else
		v=$(bench_div "$TREE_N" "$el" %.0f)
	fi
	rec "$t" tar_rm "$v"
}

# What the server alone sustains, one request at a time (its data under
# ceiling/ is removed afterwards).
run_ceiling() {
	local out k v
	bench_log "run $1/$RUNS: the server alone (bench/s3-ceiling.py)"
	if out=$(bench_t "$BENCH_STEP_TIMEOUT" python3 "$BENCH_HOME/s3-ceiling.py" "$PROXY_PORT" "$BUCKET" ceiling "$SEQ_S" "$NSMALL"); then
		while read -r k v; do
			[ -n "$k" ] && bench_record server "ceil_$k" "$v"
		done <<< "$out"
	else
		bench_log "bench/s3-ceiling.py failed"
		for k in $CEIL_KEYS; do bench_record server "ceil_$k" fail; done
	fi
	rm -rf "${STORE:?}/ceiling"
}

run_tool() {
	local t=$1 run=$2 from k top
	bench_log "run $run/$RUNS: $t"
	bench_timeout_reset
	RSS_KB=0
	top=$(tool_prefix "$t")
	top=${top%%/*}
	rm -rf "${STORE:?}/$top"
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
	rm -rf "${STORE:?}/$top"
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
	echo "$line scopefs/s3fs | scopefs/best peer |"
	line="|---|---|"
	for t in $AVAIL; do line+="---:|"; done
	echo "$line---:|---|"
	for key in "${BENCH_WORKLOADS[@]}"; do
		line="| ${BENCH_WL_LABEL[$key]} | ${BENCH_WL_UNIT[$key]} |"
		for t in $AVAIL; do line+=" $(bench_fmt "$(bench_median "$t" "$key")") |"; done
		line+=" $(bench_ratio "$(bench_median scopefs "$key")" "$(bench_median s3fs "$key")" "${BENCH_WL_BETTER[$key]}") |"
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
	echo "# scopefs s3 benchmark, $(date '+%Y-%m-%d %H:%M')"
	echo
	echo "- machine: $(bench_machine)"
	echo "- server: @20minutes/s3rver $(node -p 'require(process.argv[1]).version' "$TOP/tests/servers/node_modules/@20minutes/s3rver/package.json" 2>/dev/null) (tests/servers, patched) on 127.0.0.1, data on the same disk; every tool reaches it through bench/s3-countproxy (one loopback hop, the same for all)"
	echo "- runs: $RUNS per tool, interleaved; median shown$([ -n "$QUICK" ] && echo '; BENCH_QUICK sizes')"
	for t in $AVAIL; do
		echo "- ${NAME[$t]}: $(tool_version "$t"); \`$(tool_cmd "$t" | sed "s|$TOP/||g")\`"
	done
	echo "- cold: the daemon unmounted and mounted again (its cache directory emptied), then \`sync; echo 3 > /proc/sys/vm/drop_caches\`; the stat, read and delete phases only drop the kernel caches"
	echo "- until in the store: from the same start until s3rver's data directory holds every object with its full size (polled every 20 ms, after 2 s every 200 ms)"
	echo "- rclone writes: close returns once the file is in its local cache; the upload starts after --vfs-write-back (default 5 s), so its \"to close\" rows are not durable: compare durability on the \"until in the store\" rows"
	echo "- ratios are speed ratios: > 1.00 means scopefs is faster (for the ms row: the other's time / scopefs's time)"
	echo
	perf_table
	echo
	echo "The server alone (bench/s3-ceiling.py: one client, one keep-alive connection, one request at a time, SigV4, through the same proxy; medians):"
	echo
	ceil_table
	echo
	echo "Requests per workload (median per method; LIST = GET on the bucket, COPY = PUT with x-amz-copy-source; writes include the requests until the objects are in the store):"
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
		[ -x "$TOP/scopefs" ] && [ -e "$TOP/plugins/s3/scopefs-s3.so" ] ||
			{ bench_log "warning: scopefs or its s3 plugin is not built: no scopefs column (make all)"; continue; }
		;;
	s3fs) command -v s3fs > /dev/null || { bench_log "warning: no s3fs (scripts/install-deps.sh bench)"; continue; } ;;
	rclone_off | rclone_writes) command -v rclone > /dev/null || { bench_log "warning: no rclone (scripts/install-deps.sh bench)"; continue; } ;;
	*) bench_log "warning: unknown tool '$t' skipped"; continue ;;
	esac
	AVAIL+=" $t"
done
AVAIL=${AVAIL# }
[ -n "$AVAIL" ] || bench_die "no tool to measure"
command -v python3 > /dev/null || bench_die "python3 is needed (bench/s3-ceiling.py)"

# A copy of scopefs and its s3 plugin, taken now: a rebuild during the
# runs must not mix two builds in one table.
SNAP="$BENCH_BIN/s3-scopefs"
SNAP_TREE=$(git -C "$TOP" describe --always --dirty 2>/dev/null || echo '?')
case " $AVAIL " in *" scopefs "*)
	rm -rf "$SNAP" && mkdir -p "$SNAP/s3" &&
		cp -p "$TOP/scopefs" "$SNAP/scopefs" && cp -p "$TOP/plugins/s3/scopefs-s3.so" "$SNAP/s3/" ||
		bench_die "cannot copy scopefs and its s3 plugin to $SNAP"
	;;
esac

start_server
write_configs
bench_log "s3 section: tools: $AVAIL; $RUNS run(s)$([ -n "$QUICK" ] && echo ', QUICK sizes')"
bench_log "machine: $(bench_machine)"

for ((run = 1; run <= RUNS; run++)); do
	run_ceiling "$run"
	for t in $AVAIL; do
		run_tool "$t" "$run"
	done
done

out="$RESULTS/s3-$STAMP.md"
report > "$out"
cp "$BENCH_RAW" "$RESULTS/s3-$STAMP.tsv"
echo
cat "$out"
echo
bench_log "written: ${out#"$TOP"/} (raw numbers: ${out%.md}.tsv; requests: $REQLOG)"
if grep -q 'fail' "$BENCH_RAW"; then
	bench_log "some steps failed: see the log above and $BENCH_LOGS/s3-*.log"
	exit 1
fi
exit 0
