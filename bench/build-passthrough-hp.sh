#!/bin/sh
# Build libfuse's reference server example/passthrough_hp from Debian 12's
# fuse3 source package (the same 3.14.0 as the libfuse3 we link against)
# into bench/work/bin/passthrough_hp.  Nothing of fuse3's source is kept in
# the repository: it is fetched with `apt-get source` into bench/work/src.
# Cached: a second run with the binary present does nothing.
# Needs root (or sudo) for the deb-src entry and apt-get update; works on a
# fresh Debian 12 (bookworm).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
work="$here/work"
src="$work/src"
bin="$work/bin/passthrough_hp"
stamp="$work/bin/.passthrough_hp.version"

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

# libfuse's meson build compiles the example without its fuse_config.h, so
# 3.14's passthrough_hp would come without xattrs, utimensat on paths (tar
# setting a directory's mtime fails) and fallocate.  Define what meson's own
# function checks find on Linux (later libfuse releases do include it).
defs="-DHAVE_UTIMENSAT -DHAVE_POSIX_FALLOCATE -DHAVE_SETXATTR -DHAVE_STRUCT_STAT_ST_ATIM"
flags="-std=c++17 -O2 -w -D_GNU_SOURCE -D_REENTRANT -D_FILE_OFFSET_BITS=64 $defs"

# Rebuild when the installed libfuse3-dev or the flags change.
want="$(dpkg-query -W -f='${Version}' libfuse3-dev 2>/dev/null || true) $flags"
if [ -x "$bin" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi

mkdir -p "$src" "$work/bin"

find_tree() { ls -d "$src"/fuse3-*/ 2>/dev/null | head -n 1; }
tree=$(find_tree)
if [ -z "$tree" ] || [ ! -f "$tree/example/passthrough_hp.cc" ]; then
	command -v dpkg-source >/dev/null || {
		echo "build-passthrough-hp: installing dpkg-dev" >&2
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y --no-install-recommends dpkg-dev
	}
	# A deb-src entry for bookworm main, in the format the machine uses
	# (deb822 .sources on a current Debian 12, else a one-line .list).
	if ! grep -rqsE '^(deb-src|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/; then
		if ls /etc/apt/sources.list.d/*.sources >/dev/null 2>&1; then
			$sudo sh -c 'cat > /etc/apt/sources.list.d/scopefs-src.sources' <<-'SRC'
			Types: deb-src
			URIs: http://deb.debian.org/debian
			Suites: bookworm
			Components: main
			Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
			SRC
		else
			echo 'deb-src http://deb.debian.org/debian bookworm main' |
				$sudo sh -c 'cat > /etc/apt/sources.list.d/scopefs-src.list'
		fi
		echo "build-passthrough-hp: added a bookworm deb-src entry; apt-get update" >&2
		timeout 600 $sudo apt-get update -q >&2
	fi
	echo "build-passthrough-hp: apt-get source fuse3 into $src" >&2
	rm -rf "$src"/fuse3*
	# apt-get source downloads and unpacks (dpkg-source -x) into the
	# current directory; as root it warns that it could not sandbox as _apt.
	(cd "$src" && timeout 600 apt-get source -q fuse3 >&2) || {
		echo "build-passthrough-hp: retrying after apt-get update" >&2
		timeout 600 $sudo apt-get update -q >&2
		(cd "$src" && timeout 600 apt-get source -q fuse3 >&2)
	}
	tree=$(find_tree)
	[ -n "$tree" ] && [ -f "$tree/example/passthrough_hp.cc" ] || {
		echo "build-passthrough-hp: no example/passthrough_hp.cc in $src" >&2
		exit 1
	}
fi

command -v g++ >/dev/null || {
	echo "build-passthrough-hp: g++ missing (scripts/install-deps.sh bench installs it)" >&2
	exit 1
}
echo "build-passthrough-hp: building $bin from $tree" >&2
# passthrough_hp.cc needs only "cxxopts.hpp" from example/ besides fuse3;
# its own warnings are not ours to fix, so -w.
# shellcheck disable=SC2086,SC2046
g++ $flags -I"$tree/example" \
	-o "$bin.tmp" "$tree/example/passthrough_hp.cc" \
	$(pkg-config --cflags --libs fuse3) -lpthread
mv "$bin.tmp" "$bin"
printf '%s\n' "$want" > "$stamp"
echo "build-passthrough-hp: ok: $bin" >&2
