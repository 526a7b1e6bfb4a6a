# servers.sh: start and stop the storage servers the tests run against,
# on loopback.  Source it (bash or sh), then call the functions:
#
#   RUN_DIR=/tmp/x . tests/servers/servers.sh
#   start_s3 || exit 1      # @20minutes/s3rver on 127.0.0.1:$S3_PORT
#   start_azure || exit 1   # Azurite's blob service on 127.0.0.1:$AZ_PORT
#   start_gcs || exit 1     # the Cloud Storage emulator on 127.0.0.1:$GCS_PORT
#   ... tests ...
#   stop_all
#
# RUN_DIR holds data, logs and pid files (default /tmp/scopefs-servers).
# S3 keys: S3RVER / S3RVER, bucket testbucket.
# Azure: Azurite's development account devstoreaccount1 with its well-known
# key (azure_tool.py has it), container testcontainer, path-style URLs
# http://127.0.0.1:$AZ_PORT/devstoreaccount1/testcontainer/BLOB.
#
# S3_PORT: when it is set, start_s3 uses that port.  When it is not,
# start_s3 asks the kernel for a free port and exports S3_PORT, so that
# runs side by side on one machine each talk to their own server, and the
# tests this shell starts find it.  (A fixed default port let a second run
# talk to the first run's server, which goes away when the first run ends.)
#
# AZ_PORT does the same for start_azure, GCS_PORT for start_gcs.
#
# GCS: the Cloud Storage emulator of firebase-tools, run by gcs-emulator.js
# (not the firebase CLI); it takes any token or none, creates buckets on
# first use (the tests use testbucket) and keeps its objects in
# $RUN_DIR/gcsdata across restarts.
#
# start_nfs: nfs-ganesha (VFS FSAL, NFSv3 and v4) exporting
# $RUN_DIR/nfs/export as /export and a small tmpfs, $RUN_DIR/nfs/small
# (NFS_SMALL_SIZE, default 4m), as /small, on 127.0.0.1:$NFS_PORT with its
# MOUNT service on $MNT_PORT; free ports unless set, exported.  Clients
# name both ports in the URL (nfs://127.0.0.1/export?version=3&nfsport=
# $NFS_PORT&mountport=$MNT_PORT), so they need no portmapper; ganesha
# itself needs rpcbind on port 111 to start with NFSv3.  That port is the
# machine's: a running rpcbind is reused, and one that start_nfs starts is
# left running by stop_nfs, since other runs may have come to rely on it.
# stop_nfs then start_nfs restarts the server on the same ports and data
# (test_nfs does that under a running mount).
#
# Servers are started in the foreground of a background job so that $! is
# the server itself, and stopped by that pid only.

RUN_DIR=${RUN_DIR:-/tmp/scopefs-servers}
if [ -z "${SRV_DIR:-}" ]; then
	if [ -n "${BASH_SOURCE:-}" ]; then
		SRV_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
	else
		SRV_DIR=$(pwd)/tests/servers # sh: source from the repo root
	fi
fi
export RUN_DIR SRV_DIR

# port_open PORT: something accepts connections on 127.0.0.1:PORT.
port_open() {
	python3 -c 'import socket,sys
s=socket.socket(); s.settimeout(0.5)
sys.exit(0 if s.connect_ex(("127.0.0.1",int(sys.argv[1])))==0 else 1)' "$1"
}

# free_port: a port on 127.0.0.1 that nothing uses, as the kernel picks
# one for a bind to port 0.
free_port() {
	python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# wait_line NAME LINE SECONDS: until the server of $RUN_DIR/NAME.pid says
# LINE (a regular expression for a whole line) in $RUN_DIR/NAME.log,
# dies, or time runs out.  Its own word, not a connect, so that another
# program on the port is not taken for it.
wait_line() {
	_n=$(($3 * 10))
	while [ "$_n" -gt 0 ]; do
		grep -qx "$2" "$RUN_DIR/$1.log" && return 0
		kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null || return 1
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

# start_on_port NAME VAR: start server NAME with NAME_on PORT (which
# starts it, waits for it, and logs to $RUN_DIR/NAME.log).  With $VAR set,
# on that port (already ours and running: nothing to do; taken by another
# program: fail); else on a free port the kernel picks, exported as VAR
# before the server is up, so that should it fail the tests look for it
# there and find nothing, not another run's server.  Another program may
# take the port before the server binds it; then the server says
# EADDRINUSE and another port is tried.
start_on_port() {
	eval "_port=\${$2:-}"
	if [ -n "$_port" ]; then
		if [ -f "$RUN_DIR/$1.pid" ] &&
			kill -0 "$(cat "$RUN_DIR/$1.pid")" 2>/dev/null &&
			port_open "$_port"; then
			return 0 # ours, already running
		fi
		if port_open "$_port"; then
			echo "start_$1: port $_port is taken by another program" >&2
			return 1
		fi
		"$1_on" "$_port"
		return
	fi
	for _try in 1 2 3; do
		_port=$(free_port) || return 1
		eval "$2=\$_port"
		export "$2"
		"$1_on" "$_port" && return 0
		grep -q EADDRINUSE "$RUN_DIR/$1.log" || return 1
	done
	return 1
}

# failed NAME WHAT PORT: say so with the end of its log, stop it, fail.
failed() {
	echo "start_$1: $2 did not come up on port $3; $RUN_DIR/$1.log says:" >&2
	tail -n 20 "$RUN_DIR/$1.log" >&2
	stop_pid "$1"
	return 1
}

# s3_on PORT: start s3rver there and wait until it listens.
s3_on() {
	NODE_OPTIONS=--openssl-legacy-provider node "$SRV_DIR/s3rver-4.js" \
		-d "$RUN_DIR/s3data" -a 127.0.0.1 -p "$1" \
		--configure-bucket testbucket >"$RUN_DIR/s3.log" 2>&1 &
	echo $! >"$RUN_DIR/s3.pid"
	wait_line s3 "S3rver listening on 127\.0\.0\.1:$1" 15 ||
		failed s3 s3rver "$1"
}

start_s3() {
	"$SRV_DIR/install.sh" || return 1
	mkdir -p "$RUN_DIR/s3data"
	start_on_port s3 S3_PORT
}

stop_s3() {
	stop_pid s3
}

# azure_on PORT: start Azurite's blob service there (x-ms-version up to
# 2025-11-05 is accepted without --skipApiVersionCheck; the plugin pins an
# older one; --loose is not needed), wait until it listens and create the
# tests' container.
azure_on() {
	node "$SRV_DIR/node_modules/azurite/dist/src/blob/main.js" \
		--blobHost 127.0.0.1 --blobPort "$1" --location "$RUN_DIR/azdata" \
		--disableTelemetry --silent >"$RUN_DIR/azure.log" 2>&1 &
	echo $! >"$RUN_DIR/azure.pid"
	if wait_line azure "Azurite Blob service successfully listens on http://127\.0\.0\.1:$1" 20 &&
		python3 "$SRV_DIR/azure_tool.py" container "$1" testcontainer \
			>>"$RUN_DIR/azure.log" 2>&1; then
		return 0
	fi
	failed azure Azurite "$1"
}

start_azure() {
	"$SRV_DIR/install.sh" || return 1
	mkdir -p "$RUN_DIR/azdata"
	start_on_port azure AZ_PORT
}

stop_azure() {
	stop_pid azure
}

# gcs_on PORT: start the Cloud Storage emulator there (gcs-emulator.js)
# and wait until it listens.
gcs_on() {
	node "$SRV_DIR/gcs-emulator.js" "$1" 127.0.0.1 "$RUN_DIR/gcsdata" \
		>"$RUN_DIR/gcs.log" 2>&1 &
	echo $! >"$RUN_DIR/gcs.pid"
	wait_line gcs "GCS emulator listening on http://127\.0\.0\.1:$1" 20 ||
		failed gcs "the Cloud Storage emulator" "$1"
}

start_gcs() {
	"$SRV_DIR/install.sh" || return 1
	mkdir -p "$RUN_DIR/gcsdata"
	start_on_port gcs GCS_PORT
}

stop_gcs() {
	stop_pid gcs
}

# rpcbind_up: an rpcbind answers on 127.0.0.1:111, started if need be
# (in a session of its own, so that a kill of the test's process group
# spares it).
rpcbind_up() {
	rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && return 0
	mkdir -p /run/rpcbind
	setsid rpcbind -f >"$RUN_DIR/rpcbind.log" 2>&1 &
	_n=50
	while [ "$_n" -gt 0 ]; do
		rpcinfo -p 127.0.0.1 >/dev/null 2>&1 && return 0
		sleep 0.1
		_n=$((_n - 1))
	done
	echo "start_nfs: rpcbind did not come up on port 111; $RUN_DIR/rpcbind.log says:" >&2
	tail -n 20 "$RUN_DIR/rpcbind.log" >&2
	return 1
}

# nfs_export ID DIR PSEUDO: one EXPORT block of ganesha's configuration.
nfs_export() {
	cat <<CONF
EXPORT {
	Export_Id = $1;
	Path = $2;
	Pseudo = $3;
	Protocols = 3, 4;
	Transports = TCP;
	Access_Type = RW;
	Squash = No_Root_Squash;
	SecType = sys;
	FSAL { Name = VFS; }
}
CONF
}

# nfs_conf: ganesha's configuration for $NFS_PORT and $MNT_PORT.
nfs_conf() {
	cat <<CONF
NFS_CORE_PARAM {
	Bind_addr = 127.0.0.1;
	NFS_Port = $NFS_PORT;
	MNT_Port = $MNT_PORT;
	Enable_NLM = false;
	Enable_RQUOTA = false;
	Enable_UDP = false;
	Protocols = 3, 4;
	mount_path_pseudo = true;
}
NFSv4 {
	Graceless = true;
	RecoveryBackend = fs;
	RecoveryRoot = $RUN_DIR/nfs/recov;
}
LOG { Default_Log_Level = EVENT; }
CONF
	nfs_export 1 "$RUN_DIR/nfs/export" /export
	nfs_export 2 "$RUN_DIR/nfs/small" /small
}

# wait_nfs SECONDS: until ganesha says it is initialized and its MOUNT
# service answers on $MNT_PORT and its NFS service on $NFS_PORT, it dies,
# or time runs out.
wait_nfs() {
	_n=$(($1 * 10))
	while [ "$_n" -gt 0 ]; do
		grep -q "NFS SERVER INITIALIZED" "$RUN_DIR/nfs/ganesha.log" 2>/dev/null &&
			rpcinfo -n "$MNT_PORT" -t 127.0.0.1 mountd 3 >/dev/null 2>&1 &&
			rpcinfo -n "$NFS_PORT" -t 127.0.0.1 nfs 3 >/dev/null 2>&1 &&
			return 0
		kill -0 "$(cat "$RUN_DIR/ganesha.pid")" 2>/dev/null || return 1
		sleep 0.1
		_n=$((_n - 1))
	done
	return 1
}

# ganesha_on: start ganesha on $NFS_PORT/$MNT_PORT and wait until it serves.
ganesha_on() {
	nfs_conf >"$RUN_DIR/nfs/ganesha.conf"
	# a fresh log, for wait_nfs (the last run's is kept)
	[ -f "$RUN_DIR/nfs/ganesha.log" ] &&
		mv "$RUN_DIR/nfs/ganesha.log" "$RUN_DIR/nfs/ganesha.log.prev"
	ganesha.nfsd -F -f "$RUN_DIR/nfs/ganesha.conf" -L "$RUN_DIR/nfs/ganesha.log" \
		-p "$RUN_DIR/nfs/ganesha.pidfile" >"$RUN_DIR/nfs/ganesha.out" 2>&1 &
	echo $! >"$RUN_DIR/ganesha.pid"
	wait_nfs 15 && return 0
	echo "start_nfs: ganesha did not come up on ports $NFS_PORT/$MNT_PORT; $RUN_DIR/nfs/ganesha.log says:" >&2
	tail -n 20 "$RUN_DIR/nfs/ganesha.log" >&2
	stop_pid ganesha
	return 1
}

# small_export: $RUN_DIR/nfs/small as a tmpfs of NFS_SMALL_SIZE (for
# ENOSPC), mounted once; a plain directory where tmpfs cannot be mounted,
# or with NFS_SMALL_SIZE=none.
small_export() {
	mkdir -p "$RUN_DIR/nfs/small"
	[ "${NFS_SMALL_SIZE:-}" = none ] && return 0
	awk -v d="$RUN_DIR/nfs/small" '$5 == d { f = 1 } END { exit !f }' \
		/proc/self/mountinfo && return 0
	mount -t tmpfs -o "size=${NFS_SMALL_SIZE:-4m},mode=0755" tmpfs \
		"$RUN_DIR/nfs/small" 2>/dev/null ||
		echo "start_nfs: cannot mount a tmpfs on $RUN_DIR/nfs/small: /small is not small" >&2
	return 0
}

start_nfs() {
	command -v ganesha.nfsd >/dev/null || {
		echo "start_nfs: no ganesha.nfsd (apt-get install nfs-ganesha nfs-ganesha-vfs)" >&2
		return 1
	}
	mkdir -p "$RUN_DIR/nfs/export" "$RUN_DIR/nfs/recov"
	rpcbind_up || return 1
	small_export
	if [ -f "$RUN_DIR/ganesha.pid" ] &&
		kill -0 "$(cat "$RUN_DIR/ganesha.pid")" 2>/dev/null; then
		return 0 # ours, already running
	fi
	if [ -n "${NFS_PORT:-}" ] && [ -n "${MNT_PORT:-}" ]; then
		if port_open "$NFS_PORT" || port_open "$MNT_PORT"; then
			echo "start_nfs: port $NFS_PORT or $MNT_PORT is taken by another program" >&2
			return 1
		fi
		ganesha_on
		return
	fi
	for _try in 1 2 3; do
		NFS_PORT=$(free_port) && MNT_PORT=$(free_port) || return 1
		[ "$NFS_PORT" != "$MNT_PORT" ] || continue
		export NFS_PORT MNT_PORT
		ganesha_on && return 0
		grep -qi "address already in use" "$RUN_DIR/nfs/ganesha.log" || return 1
	done
	return 1
}

# stop_nfs: stop ganesha (the data stays; see start_nfs).  With "all",
# also unmount the small export's tmpfs.
stop_nfs() {
	stop_pid ganesha
	if [ "${1:-}" = all ] && [ -d "$RUN_DIR/nfs/small" ]; then
		umount "$RUN_DIR/nfs/small" 2>/dev/null || true
	fi
}

start_all() {
	start_s3 && start_azure && start_gcs && start_nfs
}

stop_all() {
	stop_s3
	stop_azure
	stop_gcs
	stop_nfs all
}
