#!/usr/bin/env python3
"""What bench/store-gcs.sh asks the Cloud Storage emulator directly (never
through the counting proxy, so none of it is counted against a tool):

    gcs-store.py stat PORT BUCKET PREFIX [NAME]
        print "COUNT BYTES" of the objects under PREFIX/ (only those whose
        last path element is NAME, if given); directory markers (names
        ending in '/') are not counted
    gcs-store.py clear PORT BUCKET PREFIX
        delete every object under PREFIX/

The JSON API without credentials (the emulator takes none).  Exit status
1 with a message on stderr when the emulator does not answer as expected.
"""
import http.client
import json
import sys
import urllib.parse


def request(conn, method, path, query=None):
    url = path + ("?" + urllib.parse.urlencode(query) if query else "")
    conn.request(method, url, headers={"Content-Length": "0"})
    r = conn.getresponse()
    return r.status, r.read()


def objects(conn, bucket, prefix):
    """(name, size) of every object under prefix/, all pages."""
    path = "/storage/v1/b/%s/o" % urllib.parse.quote(bucket, safe="")
    token = ""
    while True:
        q = {"prefix": prefix + "/", "fields": "items(name,size),nextPageToken"}
        if token:
            q["pageToken"] = token
        status, body = request(conn, "GET", path, q)
        if status != 200:
            raise RuntimeError("objects.list: HTTP %d %s" % (status, body[:200]))
        page = json.loads(body)
        for it in page.get("items", []):
            yield it["name"], int(it.get("size", 0))
        token = page.get("nextPageToken") or ""
        if not token:
            return


def main(argv):
    if len(argv) < 5 or argv[1] not in ("stat", "clear"):
        sys.stderr.write(__doc__)
        return 2
    port, bucket, prefix = int(argv[2]), argv[3], argv[4].rstrip("/")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if argv[1] == "stat":
            want = argv[5] if len(argv) > 5 else None
            n = size = 0
            for name, sz in objects(conn, bucket, prefix):
                if name.endswith("/"):
                    continue
                if want and name.rsplit("/", 1)[-1] != want:
                    continue
                n += 1
                size += sz
            print(n, size)
            return 0
        for name, _ in list(objects(conn, bucket, prefix)):
            status, body = request(conn, "DELETE", "/storage/v1/b/%s/o/%s" % (
                urllib.parse.quote(bucket, safe=""),
                urllib.parse.quote(name, safe="")))
            if status not in (204, 404):
                raise RuntimeError("objects.delete %s: HTTP %d" % (name, status))
        return 0
    except (OSError, RuntimeError, ValueError) as e:
        sys.stderr.write("gcs-store.py %s: %s\n" % (argv[1], e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
