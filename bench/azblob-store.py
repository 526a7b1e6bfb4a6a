#!/usr/bin/env python3
"""What bench/store-azblob.sh asks Azurite directly (never through the
counting proxy, so none of it is counted against a tool):

    azblob-store.py stat PORT CONTAINER PREFIX [NAME]
        print "COUNT BYTES" of the blobs under PREFIX/ (only those whose
        last path element is NAME, if given); directory markers (names
        ending in '/') are not counted
    azblob-store.py clear PORT CONTAINER PREFIX
        delete every blob under PREFIX/

Requests are signed with SharedKey for the development account, by
tests/servers/azure_tool.py's signer.  Exit status 1 with a message on
stderr when Azurite does not answer as expected.
"""
import datetime
import http.client
import os
import sys
import urllib.parse
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                "..", "tests", "servers"))
import azure_tool  # noqa: E402  (ACCOUNT, KEY, VERSION, sign)


def request(conn, method, path, query):
    date = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")
    xms = "x-ms-date:%s\nx-ms-version:%s\n" % (date, azure_tool.VERSION)
    # canonicalized resource: /ACCOUNT + the path (which starts with
    # /ACCOUNT on a path-style emulator URL), then the sorted query
    res = "/%s%s" % (azure_tool.ACCOUNT, urllib.parse.quote(path))
    for k in sorted(query):
        res += "\n%s:%s" % (k.lower(), query[k])
    sts = method + "\n" + "\n" * 11 + xms + res
    url = urllib.parse.quote(path) + ("?" + urllib.parse.urlencode(query)
                                      if query else "")
    conn.request(method, url, headers={
        "x-ms-date": date, "x-ms-version": azure_tool.VERSION,
        "Authorization": "SharedKey %s:%s" % (
            azure_tool.ACCOUNT, azure_tool.sign(azure_tool.KEY, sts)),
        "Content-Length": "0"})
    r = conn.getresponse()
    return r.status, r.read()


def blobs(conn, container, prefix):
    """(name, size) of every blob under prefix/, all pages."""
    path = "/%s/%s" % (azure_tool.ACCOUNT, container)
    marker = ""
    while True:
        q = {"restype": "container", "comp": "list", "prefix": prefix + "/"}
        if marker:
            q["marker"] = marker
        status, body = request(conn, "GET", path, q)
        if status != 200:
            raise RuntimeError("List Blobs: HTTP %d %s" % (status, body[:200]))
        root = ET.fromstring(body)
        for b in root.iter("Blob"):
            yield (b.findtext("Name"),
                   int(b.findtext("Properties/Content-Length") or 0))
        marker = root.findtext("NextMarker") or ""
        if not marker:
            return


def main(argv):
    if len(argv) < 5 or argv[1] not in ("stat", "clear"):
        sys.stderr.write(__doc__)
        return 2
    port, container, prefix = int(argv[2]), argv[3], argv[4].rstrip("/")
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        if argv[1] == "stat":
            want = argv[5] if len(argv) > 5 else None
            n = size = 0
            for name, sz in blobs(conn, container, prefix):
                if name.endswith("/"):
                    continue
                if want and name.rsplit("/", 1)[-1] != want:
                    continue
                n += 1
                size += sz
            print(n, size)
            return 0
        for name, _ in list(blobs(conn, container, prefix)):
            status, body = request(
                conn, "DELETE", "/%s/%s/%s" % (azure_tool.ACCOUNT, container,
                                               name), {})
            if status not in (202, 404):
                raise RuntimeError("Delete Blob %s: HTTP %d" % (name, status))
        return 0
    except (OSError, RuntimeError, ET.ParseError) as e:
        sys.stderr.write("azblob-store.py %s: %s\n" % (argv[1], e))
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
