# shellcheck shell=bash disable=SC2034
# bench/lib.sh: helpers shared by the benchmark sections (bench/local.sh,
# later bench/s3.sh).  Sourced by bash, never run.  Every step that touches a
# file system runs under `timeout`, and every daemon started with
# bench_daemon_start is stopped (and its mount removed) by bench_cleanup,
# which run.sh installs as the EXIT trap.
#
# Results: a section records raw numbers with bench_record TARGET KEY VALUE
# into $BENCH_RAW (TSV); bench_table turns them into a markdown table of
# medians.  Workloads are declared with bench_workload KEY LABEL UNIT BETTER
# (BETTER: "higher" or "lower").  BENCH_STEP_TIMEOUT (900 s) bounds each
# long step; after a time-out the target counts as hung (bench_timed_out).

BENCH_DIR=${BENCH_DIR:-"$BENCH_HOME/work"}
BENCH_BIN="$BENCH_HOME/work/bin"
BENCH_LOGS="$BENCH_DIR/logs"

# --- output and time --------------------------------------------------------

bench_log() { printf '[bench %s] %s\n' "$(date +%T)" "$*" >&2; }
bench_die() { bench_log "error: $*"; exit 1; }

# Seconds since the epoch with microseconds (bash 5).
bench_now() { printf '%s' "$EPOCHREALTIME"; }
# bench_elapsed T0: seconds since T0.
bench_elapsed() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.6f", b - a }'; }
# bench_div A B [FORMAT]: A / B.
bench_div() { awk -v a="$1" -v b="$2" -v f="${3:-%.2f}" 'BEGIN { if (b > 0) printf f, a / b; else print "nan" }'; }

# bench_t SECONDS CMD...: CMD under timeout, killed 10 s after the TERM.
# A process waiting on a FUSE request that the daemon has already taken
# cannot be killed, not even by SIGKILL, until the daemon answers: so when
# BENCH_FUSE_MNT is set, a watchdog aborts that mount's FUSE connection
# 5 s after the TERM, which fails the request and lets the process die.
bench_t() {
	local secs=$1 wd='' rc
	shift
	if [ -n "${BENCH_FUSE_MNT:-}" ]; then
		# Its own process group (set -m), so that one kill ends it and its
		# sleep together: an orphaned sleep would hold the lock (fd 9) and
		# could later abort another mount on the same path.
		set -m
		(
			exec 9>&-
			sleep $((secs + 5))
			bench_log "watchdog: aborting the FUSE connection of $BENCH_FUSE_MNT"
			bench_force_unmount "$BENCH_FUSE_MNT"
		) > /dev/null &
		wd=$!
		set +m
	fi
	timeout -k 10 "$secs" "$@"
	rc=$?
	if [ -n "$wd" ]; then
		kill -TERM -- "-$wd" 2>/dev/null
		wait "$wd" 2>/dev/null
	fi
	if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
		bench_log "timed out after ${secs}s: $*"
		# A file, not a variable: bench_t often runs in $(...).
		touch "$BENCH_DIR/.timed-out"
		# timeout signals only its child's process group: a process of
		# another group (fio's workers) may still wait on the daemon, holding
		# our $(...) pipe.  The target counts as hung now anyway: abort it.
		if [ -n "${BENCH_FUSE_MNT:-}" ]; then
			bench_log "aborting the FUSE connection of $BENCH_FUSE_MNT"
			bench_force_unmount "$BENCH_FUSE_MNT" >&2
		fi
	fi
	return $rc
}
# Whether some step timed out since the last bench_timeout_reset.
bench_timed_out() { [ -e "$BENCH_DIR/.timed-out" ]; }
bench_timeout_reset() { rm -f "$BENCH_DIR/.timed-out"; }

# The limit for one long step (a 1 GiB write, 10,000 creates, a tar xf).
BENCH_STEP_TIMEOUT=${BENCH_STEP_TIMEOUT:-900}

# Flush and drop the page, dentry and inode caches (FUSE mounts included:
# the kernel then forgets their inodes, so the next access asks the daemon).
bench_drop_caches() {
	bench_t "$BENCH_STEP_TIMEOUT" sync || return 1
	bench_t 120 sh -c 'echo 3 > /proc/sys/vm/drop_caches'
}

# --- results ---------------------------------------------------------------

BENCH_WORKLOADS=()
declare -A BENCH_WL_LABEL BENCH_WL_UNIT BENCH_WL_BETTER
bench_workload() {
	BENCH_WORKLOADS+=("$1")
	BENCH_WL_LABEL[$1]=$2
	BENCH_WL_UNIT[$1]=$3
	BENCH_WL_BETTER[$1]=$4
}

# bench_record TARGET KEY VALUE: one measurement ("fail" when a step failed).
bench_record() {
	printf '%s\t%s\t%s\n' "$1" "$2" "$3" >> "$BENCH_RAW"
	bench_log "  $1 $2: $3 ${BENCH_WL_UNIT[$2]:-}"
}

# bench_median TARGET KEY: the median of the recorded values; "fail" if any
# run failed, "n/a" if none was recorded.
bench_median() {
	awk -F'\t' -v t="$1" -v k="$2" '
		$1 == t && $2 == k { if ($3 == "fail") bad = 1; else v[n++] = $3 }
		END {
			if (bad) { print "fail"; exit }
			if (!n) { print "n/a"; exit }
			# insertion sort: n is the number of runs
			for (i = 1; i < n; i++) { x = v[i]; for (j = i - 1; j >= 0 && v[j] + 0 > x + 0; j--) v[j + 1] = v[j]; v[j + 1] = x }
			m = (n % 2) ? v[int(n / 2)] : (v[n / 2 - 1] + v[n / 2]) / 2
			print m
		}' "$BENCH_RAW"
}

# bench_fmt VALUE: a readable number (3 significant digits, at least
# integers for big values).
bench_fmt() {
	awk -v v="$1" 'BEGIN {
		if (v !~ /^[-0-9.eE+]+$/) { print v; exit }
		a = (v < 0) ? -v : v
		if (a >= 100) printf "%.0f", v
		else if (a >= 10) printf "%.1f", v
		else printf "%.2f", v
	}'
}

# bench_ratio A B BETTER: how many times faster A is than B (>1: A faster).
bench_ratio() {
	awk -v a="$1" -v b="$2" -v better="$3" 'BEGIN {
		if (a !~ /^[0-9.eE+-]+$/ || b !~ /^[0-9.eE+-]+$/ || a <= 0 || b <= 0) { print "—"; exit }
		printf "%.2f", (better == "lower") ? b / a : a / b
	}'
}

# bench_table "T1 T2 ..." "A/B C/D ...": a markdown table with one column of
# medians per target and one speed-ratio column per pair.
bench_table() {
	local targets=$1 ratios=$2 key t r line
	line="| workload | unit |"
	for t in $targets; do line+=" $t |"; done
	for r in $ratios; do line+=" $r |"; done
	echo "$line"
	line="|---|---|"
	for t in $targets; do line+="---:|"; done
	for r in $ratios; do line+="---:|"; done
	echo "$line"
	for key in "${BENCH_WORKLOADS[@]}"; do
		declare -A med=()
		line="| ${BENCH_WL_LABEL[$key]} | ${BENCH_WL_UNIT[$key]} |"
		for t in $targets; do
			med[$t]=$(bench_median "$t" "$key")
			line+=" $(bench_fmt "${med[$t]}") |"
		done
		for r in $ratios; do
			line+=" $(bench_ratio "${med[${r%/*}]:-n/a}" "${med[${r#*/}]:-n/a}" "${BENCH_WL_BETTER[$key]}") |"
		done
		echo "$line"
		unset med
	done
}

# bench_table_runs "T1 T2 ...": every run's value, in run order, per target:
# how much the medians can be trusted.
bench_table_runs() {
	local targets=$1 key t line
	line="| workload |"
	for t in $targets; do line+=" $t |"; done
	echo "$line"
	line="|---|"
	for t in $targets; do line+="---:|"; done
	echo "$line"
	for key in "${BENCH_WORKLOADS[@]}"; do
		line="| ${BENCH_WL_LABEL[$key]} (${BENCH_WL_UNIT[$key]}) |"
		for t in $targets; do
			line+=" $(awk -F'\t' -v t="$t" -v k="$key" '$1 == t && $2 == k { print $3 }' "$BENCH_RAW" |
				while read -r v; do printf '%s, ' "$(bench_fmt "$v")"; done | sed 's/, $//') |"
		done
		echo "$line"
	done
}

# --- FUSE daemons ------------------------------------------------------------

BENCH_PIDS=()   # daemons started, stopped by bench_cleanup
BENCH_MNTS=()   # their mount points

bench_is_mounted() {
	awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# The FUSE connection of the mount on $1 ("major:minor" -> minor).
bench_fuse_conn() {
	awk -v m="$1" '$5 == m { split($3, d, ":"); print d[2]; exit }' /proc/self/mountinfo
}

# The FUSE control file system (/sys/fs/fuse/connections), needed to abort
# a connection; not every machine mounts it.
bench_fusectl() {
	mountpoint -q /sys/fs/fuse/connections 2>/dev/null ||
		mount -t fusectl fusectl /sys/fs/fuse/connections 2>/dev/null || true
}

# Abort a hung FUSE connection and detach the mount: the last resort.
bench_force_unmount() {
	local mnt=$1 conn
	bench_fusectl
	conn=$(bench_fuse_conn "$mnt")
	if [ -n "$conn" ] && [ -e "/sys/fs/fuse/connections/$conn/abort" ]; then
		echo 1 > "/sys/fs/fuse/connections/$conn/abort" 2>/dev/null || true
	fi
	bench_is_mounted "$mnt" && { timeout 10 umount -l "$mnt" 2>/dev/null || true; }
	bench_is_mounted "$mnt" && { timeout 10 fusermount3 -uz "$mnt" 2>/dev/null || true; }
	! bench_is_mounted "$mnt"
}

# bench_daemon_start NAME MNT LOG CMD...: start CMD in the background (it must
# stay in the foreground itself) and wait up to 20 s for MNT to be mounted.
# Sets BENCH_PID.  Fails, with the log's tail, if the daemon exits first.
bench_daemon_start() {
	local name=$1 mnt=$2 log=$3 i
	shift 3
	bench_is_mounted "$mnt" && bench_die "$mnt is already mounted"
	"$@" > "$log" 2>&1 < /dev/null 9>&- &
	BENCH_PID=$!
	BENCH_PIDS+=("$BENCH_PID")
	BENCH_MNTS+=("$mnt")
	for ((i = 0; i < 200; i++)); do
		bench_is_mounted "$mnt" && return 0
		if ! kill -0 "$BENCH_PID" 2>/dev/null; then
			bench_log "$name exited before mounting $mnt; its log ($log):"
			tail -n 20 "$log" >&2
			return 1
		fi
		sleep 0.1
	done
	bench_log "$name did not mount $mnt within 20 s; its log ($log):"
	tail -n 20 "$log" >&2
	bench_daemon_stop "$BENCH_PID" "$mnt"
	return 1
}

# VmHWM (peak resident set) of what serves under daemon PID, in kB: the sum
# over its forked children (scopefs's workers, one per backend, under a
# supervisor that holds no buffers: docs/isolation.md), or PID's own when it
# has none (the other tools; fusermount3 helpers, exec'd, do not count).
bench_hwm() {
	local exe c v sum=0 n=0
	exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 0
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		[ "$(readlink "/proc/$c/exe" 2>/dev/null)" = "$exe" ] || continue
		v=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$c/status" 2>/dev/null)
		[ -n "$v" ] && sum=$((sum + v)) n=$((n + 1))
	done
	if [ "$n" -gt 0 ]; then
		echo "$sum"
	else
		awk '$1 == "VmHWM:" { print $2 }' "/proc/$1/status" 2>/dev/null
	fi
}

# bench_daemon_stop PID MNT: SIGTERM, wait up to 20 s for the daemon to exit
# and the mount to go; then SIGKILL and force the unmount.  (Read its VmHWM
# with bench_hwm before.)
bench_daemon_stop() {
	local pid=$1 mnt=$2 i
	kill -TERM "$pid" 2>/dev/null
	for ((i = 0; i < 200; i++)); do
		if ! kill -0 "$pid" 2>/dev/null && ! bench_is_mounted "$mnt"; then
			wait "$pid" 2>/dev/null
			return 0
		fi
		sleep 0.1
	done
	bench_log "daemon $pid did not stop on SIGTERM within 20 s; killing it"
	kill -KILL "$pid" 2>/dev/null
	bench_force_unmount "$mnt"
	wait "$pid" 2>/dev/null
	return 1
}

# The EXIT trap: stop every daemon still running, remove every mount left.
bench_cleanup() {
	local i
	for i in "${!BENCH_PIDS[@]}"; do
		if kill -0 "${BENCH_PIDS[$i]}" 2>/dev/null || bench_is_mounted "${BENCH_MNTS[$i]}"; then
			bench_daemon_stop "${BENCH_PIDS[$i]}" "${BENCH_MNTS[$i]}" || true
		fi
	done
	for i in "${BENCH_MNTS[@]}"; do
		bench_is_mounted "$i" && bench_force_unmount "$i"
	done
	return 0
}

# --- machine ----------------------------------------------------------------

bench_machine() {
	local mem cpu fs
	mem=$(awk '$1 == "MemTotal:" { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
	cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	fs=$(df -T "$BENCH_DIR" | awk 'NR == 2 { print $2 " on " $1 }')
	echo "$(nproc) CPUs ($cpu), $mem RAM, Linux $(uname -r), $(. /etc/os-release && echo "$PRETTY_NAME"), data on $fs"
}
