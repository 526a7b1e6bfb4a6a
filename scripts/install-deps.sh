#!/bin/sh
# Install the Debian packages scopefs builds, tests and benchmarks with.
# Quick when everything is present (one dpkg-query), so the Makefile can
# call it on every build.  Usage: install-deps.sh [build|test|bench]...
set -eu

build="gcc make pkg-config libfuse3-dev fuse3 libinih-dev libcurl4-openssl-dev libssl-dev libxml2-dev libjson-c-dev libnfs-dev"
# clang's libFuzzer and sanitizer runtimes are in libclang-rt-14-dev, only
# a Recommends of clang (which --no-install-recommends leaves out).
# man-db and groff-base: test_manpages renders docs/man with man -l.
test="libcriterion-dev clang libclang-rt-14-dev sqlite3 git tar xz-utils python3 procps acl attr nfs-ganesha nfs-ganesha-vfs rpcbind man-db groff-base"
bench="fio libnfs-utils s3fs rclone dpkg-dev devscripts meson ninja-build g++ time"

want=""
for set in "${@:-build}"; do
	case "$set" in
	build) want="$want $build" ;;
	test) want="$want $build $test" ;;
	bench) want="$want $build $test $bench" ;;
	*) echo "install-deps.sh: unknown set '$set' (build, test or bench)" >&2; exit 2 ;;
	esac
done

# The test servers run on Node.js; CI images bring Node 20 themselves,
# a bare Debian 12 gets Debian's.
case "$want" in *libcriterion*)
	command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
		want="$want nodejs npm" ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

echo "install-deps.sh: installing:$missing" >&2
fail() {
	echo "install-deps.sh: $1; install these Debian packages yourself, then run make again:" >&2
	echo "    apt-get install$missing" >&2
	exit 1
}
command -v apt-get >/dev/null 2>&1 || fail "no apt-get on this machine (scopefs installs with Debian's packages)"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
	command -v sudo >/dev/null 2>&1 || fail "not root, and no sudo"
	sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists: install fails at once, then
# one update and a second try.
$sudo apt-get install -y --no-install-recommends $missing 2>/dev/null ||
	{ $sudo apt-get update && $sudo apt-get install -y --no-install-recommends $missing; } ||
	fail "apt-get failed"
