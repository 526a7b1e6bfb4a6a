#!/bin/bash
# fresh-machine.sh: run the README's commands on a brand-new Debian 12 machine,
# so that a missing install step fails here and not on a newcomer's machine.
#
#   scripts/fresh-machine.sh [COMMAND]...
#
# With no COMMAND, the commands are the README's first ```sh block (one a
# line, comments dropped).  Each runs, as root, in /root/scopefs inside a
# clean Debian 12 (bookworm) root holding what a new machine of this
# project's kind has: the base system plus gcc, g++, make, git,
# ca-certificates, curl, python3, perl, procps, and this machine's Node.js,
# npm, trust store and npm settings (copied as they are: Debian's Node.js
# is 18, and npm without the machine's settings hangs).  A `make run
# MNT=DIR` command is then checked: the three scoped paths must be mounted
# and must round-trip a file; it is unmounted before the next command.
#
# The root is made once with mmdebstrap and cached as a tarball (in
# $FRESH_CACHE, default /var/cache/scopefs-fresh), keyed by its package
# list and the Node.js it carries; each run unpacks a new copy of it,
# puts a clean clone of this repository's HEAD in it (commit first), binds
# /dev, /dev/pts, /proc and /sys, and runs the commands with chroot in
# a mount and PID namespace of its own (unshare), so that every mount and
# process it starts ends with it.  The copy is removed afterwards
# (FRESH_KEEP=1 keeps it, for a look).
#
# Needs root.  Installs mmdebstrap with apt-get when it is missing.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
cache=${FRESH_CACHE:-/var/cache/scopefs-fresh}
suite=bookworm
packages="gcc,g++,make,git,ca-certificates,curl,python3,perl,procps"

say() { echo "fresh-machine: $*" >&2; }
die() { say "$*"; exit 1; }

[ "$(id -u)" -eq 0 ] || die "needs root (it builds and enters a chroot)"

# The commands: the arguments, or the README's first sh block.
cmds=()
if [ $# -gt 0 ]; then
	cmds=("$@")
else
	while IFS= read -r line; do
		cmds+=("$line")
	done < <(awk '/^```sh/ { inblock = 1; next }
		inblock && /^```/ { exit }
		inblock { sub(/[ \t]*#.*/, ""); if ($0 != "") print }' "$here/README.md")
	[ ${#cmds[@]} -gt 0 ] || die "README.md has no \`\`\`sh block of commands"
fi

for tool in mmdebstrap unshare chroot; do
	command -v "$tool" >/dev/null 2>&1 && continue
	say "installing mmdebstrap"
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y --no-install-recommends mmdebstrap >/dev/null 2>&1 ||
		{ apt-get update >/dev/null && apt-get install -y --no-install-recommends mmdebstrap >/dev/null; } ||
		die "could not install mmdebstrap"
	break
done

# What a new machine carries beyond Debian's base, copied as files (never
# read or printed here): Node.js and npm as this machine's nodejs package
# installed them, the trust store, npm's settings, name resolution.
node_files() {
	if dpkg-query -W -f='${Status}' nodejs 2>/dev/null | grep -q "install ok installed"; then
		dpkg -L nodejs | while IFS= read -r f; do [ -f "$f" ] || [ -L "$f" ] && echo "$f"; done
		# npm upgrades itself in place after the package: take the tree as it is.
		[ -d /usr/lib/node_modules ] && find /usr/lib/node_modules \( -type f -o -type l \)
	fi
	for f in /usr/bin/node /usr/bin/npm /usr/bin/npx; do [ -e "$f" ] && echo "$f"; done
	return 0
}
machine_files() {
	for f in /etc/ssl/certs/ca-certificates.crt /etc/npmrc /usr/etc/npmrc /root/.npmrc \
		/etc/resolv.conf /etc/hosts; do
		[ -e "$f" ] && echo "$f"
	done
	[ -d /usr/local/share/ca-certificates ] && find /usr/local/share/ca-certificates -type f
	return 0
}

# The cache key: what goes into the root.
node_version=$(node --version 2>/dev/null || echo none)
key=$(printf '%s\n' "$suite" "$packages" "$node_version" "$(node_files | sort | sha256sum)" |
	sha256sum | cut -c1-16)
tarball="$cache/$suite-$key.tar"

build_root() {
	mkdir -p "$cache"
	local tmp="$cache/building.$$.tar" # mmdebstrap picks the format by the name
	local -a sources=()
	# The machine's own apt sources (it may reach Debian through a mirror of
	# its own), in either format; mmdebstrap copies each into the root.
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
		[ -s "$f" ] && grep -q '^[^#]' "$f" && sources+=("$f")
	done
	[ ${#sources[@]} -gt 0 ] || die "this machine has no apt sources to build the root from"
	say "building a clean $suite root (once; cached as $tarball)"
	local start=$SECONDS
	# Snapshot mirrors have expired Release files; apt here is told so.
	mmdebstrap --quiet --variant=important --include="$packages" \
		--aptopt='Acquire::Check-Valid-Until "false"' \
		--aptopt='Acquire::Check-Date "false"' \
		--customize-hook='rm -f "$1"/etc/resolv.conf "$1"/etc/hosts' \
		"$suite" "$tmp" "${sources[@]}" ||
		{ rm -f "$tmp"; die "mmdebstrap failed"; }
	# Add the machine's own files on top of Debian's.
	local extra
	extra=$(mktemp -d)
	{ node_files; machine_files; } | sed 's|^/||' | sort -u |
		tar -C / --no-recursion -cf "$extra/extra.tar" -T - ||
		{ rm -rf "$extra" "$tmp"; die "could not collect this machine's Node.js and settings"; }
	tar -Af "$tmp" "$extra/extra.tar"
	rm -rf "$extra"
	mv "$tmp" "$tarball"
	# Roots made for other package lists or Node.js versions are stale.
	find "$cache" -maxdepth 1 -name "$suite-*.tar" ! -path "$tarball" -delete
	say "root built in $((SECONDS - start)) s ($(du -h "$tarball" | cut -f1))"
}

[ -f "$tarball" ] || build_root

work=$(mktemp -d "${FRESH_WORK:-/var/tmp}/scopefs-fresh.XXXXXX")
root="$work/root"
cleanup() {
	# The namespace is gone by now, and its mounts with it; the copy is ours.
	if [ "${FRESH_KEEP:-0}" = 1 ]; then
		say "kept the root: $root"
	else
		rm -rf --one-file-system "$work"
	fi
}
trap cleanup EXIT

mkdir -p "$root"
start=$SECONDS
tar -C "$root" -xf "$tarball" --exclude='./dev/*'
# A clean clone: only what is committed reaches the root, as on CI.
git clone --quiet --no-hardlinks "$here" "$root/root/scopefs"
say "root unpacked with a clone of $(git -C "$here" rev-parse --short HEAD) in $((SECONDS - start)) s"

# The script that runs inside: each command in turn; a `make run MNT=DIR`
# is checked and unmounted before the next.
printf '%s\n' "${cmds[@]}" > "$root/root/fresh-commands"
cat > "$root/root/fresh-inside.sh" <<'INSIDE'
#!/bin/bash
set -u
cd /root/scopefs
export HOME=/root PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
check_run_mounts() {
	local mnt=$1 d data ok=0
	data=$(realpath -m "$mnt.data")
	for d in cluster_storage user_storage shared_storage; do
		if ! mountpoint -q "$mnt/$d"; then
			echo "fresh-machine: $mnt/$d is not mounted after make run" >&2; ok=1; continue
		fi
		echo "hello from $d" > "$mnt/$d/fresh-check.txt" &&
			[ "$(cat "$mnt/$d/fresh-check.txt")" = "hello from $d" ] &&
			[ -n "$(find "$data" -name fresh-check.txt -path "*$d*" -print -quit)" ] ||
			{ echo "fresh-machine: a file written to $mnt/$d did not reach $data" >&2; ok=1; }
	done
	local pid
	pid=$(pidof scopefs || true)
	[ -n "$pid" ] && kill -TERM $pid
	for _ in $(seq 100); do
		grep -q " $mnt/" /proc/self/mountinfo || break
		sleep 0.1
	done
	grep -q " $mnt/" /proc/self/mountinfo &&
		{ echo "fresh-machine: the daemon did not unmount $mnt on SIGTERM" >&2; ok=1; }
	[ $ok -eq 0 ] && echo "fresh-machine: make run mounted the three scoped paths under $mnt; a file round-tripped through each"
	return $ok
}
rc=0
while IFS= read -r cmd; do
	echo "fresh-machine: \$ $cmd"
	t0=$SECONDS
	bash -c "$cmd" </dev/null
	r=$?
	echo "fresh-machine: '$cmd' exited $r after $((SECONDS - t0)) s"
	if [ $r -eq 0 ]; then
		case "$cmd" in
		"make run MNT="*) check_run_mounts "${cmd#make run MNT=}" || r=1 ;;
		esac
	fi
	[ $r -eq 0 ] || { rc=$r; break; }
done < /root/fresh-commands
exit $rc
INSIDE
chmod +x "$root/root/fresh-inside.sh"

# Enter: a mount and PID namespace of our own, so the mounts below, the
# FUSE mounts and every process started inside end when this does.
set +e
unshare --mount --pid --fork --propagation private /bin/bash -c '
	set -e
	root=$1
	# The root a mount point of its own, as / is on a machine: else
	# /proc/self/mounts inside shows no filesystem holding /, and what
	# looks a path up there fails (ganesha VFS cannot resolve its
	# exports; fusermount3 auto_unmount finds no mount to undo).
	mount --bind "$root" "$root"
	mount --rbind /dev "$root/dev"
	mount --make-rslave "$root/dev"
	mount -t proc proc "$root/proc"
	mount --rbind /sys "$root/sys"
	mount --make-rslave "$root/sys"
	mount -t tmpfs tmpfs "$root/run"
	exec chroot "$root" /root/fresh-inside.sh
' fresh "$root"
rc=$?
set -e
say "done in $((SECONDS - start)) s, exit $rc"
exit $rc
