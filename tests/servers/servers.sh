# servers.sh: start and stop the storage servers the tests run against,
# on loopback.  Source it (bash or sh), then call the functions:
#
#   RUN_DIR=/tmp/x . tests/servers/servers.sh
#   start_s3 || exit 1      # @20minutes/s3rver on 127.0.0.1:$S3_PORT
#   ... tests ...
#   stop_all
#
# RUN_DIR holds data, logs and pid files (default /tmp/scopefs-servers);
# S3_PORT defaults to 19050.  S3 keys: S3RVER / S3RVER, bucket testbucket.
# Servers are started in the foreground of a background job so that $! is
# the server itself, and stopped by that pid only.

RUN_DIR=${RUN_DIR:-/tmp/scopefs-servers}
S3_PORT=${S3_PORT:-19050}
if [ -z "${SRV_DIR:-}" ]; then
	if [ -n "${BASH_SOURCE:-}" ]; then
		SRV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	else
		SRV_DIR=$(pwd)/tests/servers # sh: source from the repo root
	fi
fi
export RUN_DIR S3_PORT SRV_DIR

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() {
	python3 -c 'import socket,sys
s=socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1",int(sys.argv[1])))==0 else 1)' "$1"
}

# wait_port PORT SECONDS PIDFILE: until the port answers, the server
# dies, or time runs out.
wait_port() {
	_n=$(($2 * 10))
	while [ "$_n" -gt 0 ]; do
		port_open "$1" && return 0
		kill -0 "$(cat "$3")" 2>/dev/null || return 1
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# stop_pid NAME: SIGTERM the pid in $RUN_DIR/NAME.pid, wait up to 10 s,
# then SIGKILL.
stop_pid() {
	_f="$RUN_DIR/$1.pid"
	[ -f "$_f" ] || return 0
	_pid=$(cat "$_f")
	if kill "$_pid" 2>/dev/null; then
		_n=100
		while kill -0 "$_pid" 2>/dev/null && [ "$_n" -gt 0 ]; do
			sleep 0.1
			_n=$((_n - 1))
		done
		kill -9 "$_pid" 2>/dev/null || true
	fi
	rm -f "$_f"
}

start_s3() {
	"$SRV_DIR/install.sh" || return 1
	mkdir -p "$RUN_DIR/s3data"
	if [ -f "$RUN_DIR/s3.pid" ] && kill -0 "$(cat "$RUN_DIR/s3.pid")" 2>/dev/null &&
		port_open "$S3_PORT"; then
		return 0 # ours, already running
	fi
	if port_open "$S3_PORT"; then
		echo "start_s3: port $S3_PORT is taken by another program" >&2
		return 1
	fi
	NODE_OPTIONS=--openssl-legacy-provider node "$SRV_DIR/s3rver-4.js" \
		-d "$RUN_DIR/s3data" -a 127.0.0.1 -p "$S3_PORT" \
		--configure-bucket testbucket >"$RUN_DIR/s3.log" 2>&1 &
	echo $! >"$RUN_DIR/s3.pid"
	if ! wait_port "$S3_PORT" 15 "$RUN_DIR/s3.pid"; then
		echo "start_s3: s3rver did not come up; $RUN_DIR/s3.log says:" >&2
		tail -n 20 "$RUN_DIR/s3.log" >&2
		stop_pid s3
		return 1
	fi
}

stop_s3() {
	stop_pid s3
}

start_all() {
	start_s3
}

stop_all() {
	stop_s3
}
