#!/bin/sh
# Run every test binary: $O/tests/bin/unit/* first, then
# $O/tests/bin/integration/*, each under a timeout; print a summary and exit
# non-zero if any failed.  Runs from the repository root.
#
#   O=DIR                 build output directory (default .)
#   TEST_TIMEOUT=SECONDS  per binary (default 600)
#   tests/run.sh [NAME]...  only the binaries whose name contains a NAME
#   Anything after "--" is passed to every binary (Criterion options,
#   e.g. -- --verbose or -- --filter 'posix/*').
#
# If tests/servers/servers.sh exists it is sourced, and its start_all and
# stop_all bracket the run (test servers such as an S3 emulator).  The S3
# server listens on a free port the kernel picks, exported as S3_PORT to
# every test, so that runs side by side do not share a server; export
# S3_PORT to choose the port.
#
# After the integration binaries (on the local backend; test_s3 always uses
# s3), the suites that run on any backend run again on each backend in
# BACKEND_RUNS ("s3"; "" for none), named BINARY@BACKEND: e.g.
# `tests/run.sh @s3` runs only those.  SCOPEFS_REQUIRE_SERVERS=1 (the
# default here) makes a test whose server does not answer fail, not skip.
#
# Each run has a directory of its own, $TMPDIR/scopefs-tests.XXXXXX: the
# servers' RUN_DIR (unless RUN_DIR is set) and the tests' TMPDIR, so that
# the sweep for leftover mounts sees only this run's.  It is removed when
# nothing failed (and SCOPEFS_KEEP_TMP is not set).
set -u
cd "$(dirname "$0")/.." || exit 2

O=${O:-.}
TEST_TIMEOUT=${TEST_TIMEOUT:-600}
BACKEND_RUNS=${BACKEND_RUNS-s3}
BACKEND_SUITES="test_posix test_differential"
export SCOPEFS_REQUIRE_SERVERS=${SCOPEFS_REQUIRE_SERVERS:-1}
out=$(cd "$O" && pwd) || { echo "run.sh: no directory $O" >&2; exit 2; }
export SCOPEFS_PLUGIN_DIR="$out/plugins"
export SCOPEFS_BIN="$out/scopefs"

names=""
while [ $# -gt 0 ]; do
	case "$1" in
	--) shift; break ;;
	*) names="$names $1"; shift ;;
	esac
done

wanted() {
	[ -z "$names" ] && return 0
	for n in $names; do
		case "$1" in *"$n"*) return 0 ;; esac
	done
	return 1
}

# pwd -P: the sweep compares with the paths of /proc/self/mountinfo.
run=$(cd "$(mktemp -d "${TMPDIR:-/tmp}/scopefs-tests.XXXXXX")" && pwd -P) ||
	exit 2
# The permission tests' "nobody" must reach the mounts below tmp/.
chmod 755 "$run" && mkdir -m 1777 "$run/tmp" || exit 2

# Unmount (lazily) whatever a test of this run left mounted under a
# scopefs-test.* directory and kill the daemon recorded there; report each
# as a failure.  Only this run's: other runs' tests may be mounted right
# now.
sweep() {
	found=0
	for mp in $(awk -v top="$run/tmp/scopefs-test." \
		'$0 ~ / - fuse\.scopefs / && index($5, top) == 1 { print $5 }' \
		/proc/self/mountinfo); do
		found=1
		dir=${mp%%/mnt/*}
		echo "run.sh: LEFTOVER MOUNT $mp (after $1)" >&2
		if [ -f "$dir/daemon.pid" ]; then
			pid=$(cat "$dir/daemon.pid")
			case "$pid" in
			'' | *[!0-9]*) ;;
			*) kill -KILL "$pid" 2>/dev/null ;;
			esac
		fi
		fusermount3 -u -z "$mp" 2>/dev/null || umount -l "$mp" 2>/dev/null
	done
	return $found
}

# Servers get a RUN_DIR of this run's own, so that stop_all stops only
# what this run started.
servers_failed=0
if [ -f tests/servers/servers.sh ]; then
	RUN_DIR=${RUN_DIR:-$run}
	export RUN_DIR
	. tests/servers/servers.sh
	trap 'stop_all' EXIT
	trap 'stop_all; exit 130' INT TERM
	if start_all; then
		echo "run.sh: S3 server on 127.0.0.1:$S3_PORT (RUN_DIR $RUN_DIR)"
	else
		echo "run.sh: start_all failed (logs in $RUN_DIR): tests that" \
			"need the servers will fail" >&2
		servers_failed=1
	fi
fi

passed=0
failed=0
failures=""

# run_one NAME BACKEND BIN ARGS...: one binary under the timeout, with
# SCOPEFS_TEST_BACKEND=BACKEND ("" leaves the environment's).
run_one() {
	_name=$1 _backend=$2 _bin=$3
	shift 3
	case "$_name" in
	integration/test_s3) echo "==== $_name (backend s3)" ;;
	integration/*) echo "==== $_name (backend ${_backend:-${SCOPEFS_TEST_BACKEND:-local}})" ;;
	*) echo "==== $_name" ;;
	esac
	start=$(date +%s)
	if [ -n "$_backend" ]; then
		SCOPEFS_TEST_BACKEND=$_backend TMPDIR=$run/tmp \
			timeout -k 10 "$TEST_TIMEOUT" "$_bin" "$@"
	else
		TMPDIR=$run/tmp timeout -k 10 "$TEST_TIMEOUT" "$_bin" "$@"
	fi
	rc=$?
	[ $rc -eq 124 ] && echo "run.sh: $_name timed out after ${TEST_TIMEOUT}s" >&2
	sweep "$_name" || rc=1
	took=$(($(date +%s) - start))
	if [ $rc -eq 0 ]; then
		passed=$((passed + 1))
		echo "==== $_name: ok (${took}s)"
	else
		failed=$((failed + 1))
		failures="$failures $_name"
		echo "==== $_name: FAILED (exit $rc, ${took}s)"
	fi
}

for kind in unit integration; do
	for bin in "$O"/tests/bin/$kind/*; do
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		name="$kind/$(basename "$bin")"
		wanted "$name" || continue
		run_one "$name" "" "$bin" "$@"
	done
done

# The backend-independent suites again, on each other backend.
for backend in $BACKEND_RUNS; do
	for suite in $BACKEND_SUITES; do
		bin="$O/tests/bin/integration/$suite"
		[ -f "$bin" ] && [ -x "$bin" ] || continue
		name="integration/$suite@$backend"
		wanted "$name" || continue
		run_one "$name" "$backend" "$bin" "$@"
	done
done

echo
echo "==== summary: $passed passed, $failed failed"
for f in $failures; do
	echo "     FAILED: $f"
done
if [ $servers_failed -ne 0 ]; then
	echo "     FAILED: starting the test servers (tests/servers/servers.sh)"
	failed=$((failed + 1))
fi
if [ $((passed + failed)) -eq 0 ]; then
	echo "run.sh: no test binaries found under $O/tests/bin (make build-tests)" >&2
	exit 1
fi
if [ $failed -eq 0 ] && [ -z "${SCOPEFS_KEEP_TMP:-}" ]; then
	[ -f tests/servers/servers.sh ] && stop_all
	rm -rf "$run"
else
	echo "run.sh: kept $run (server logs, test directories)"
fi
[ $failed -eq 0 ]
