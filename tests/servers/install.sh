#!/bin/sh
# Install the npm test servers (package-lock.json) and patch them.  Quick
# when nothing changed: a stamp holds the hash of the lock file and of the
# patch script; a change of either reinstalls from scratch, since the
# patches edit node_modules in place.
set -eu
cd "$(dirname "$0")"

command -v node >/dev/null && command -v npm >/dev/null || {
	echo "install.sh: node and npm are needed for the test servers" >&2
	exit 1
}
# Several runs (or developers) may start servers at once: one installs,
# the others wait for it.
exec 9>"${TMPDIR:-/tmp}/scopefs-servers-install.lock"
flock 9
stamp=node_modules/.scopefs-stamp
want=$(cat package-lock.json patch-s3rver.js | sha256sum | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
	exit 0
fi
rm -rf node_modules
# --omit=optional: firebase-tools (the GCS emulator) pulls optional native
# packages (re2 and others) that no test server needs; leaving them out
# saves ~90 MB and their download, and gcs-emulator.js, s3rver and Azurite
# run without them.
npm ci --no-audit --no-fund --loglevel=error --omit=optional
node patch-s3rver.js node_modules/@20minutes/s3rver
echo "$want" > "$stamp"
