#!/usr/bin/env python3
"""Small Azure Blob chores for the tests, against Azurite's development
account (SharedKey signed here with the standard library only):

    azure_tool.py container PORT NAME   create container NAME (exists: fine)
    azure_tool.py sas [--expiry-hours H] [--key KEY]
                                        print an account SAS for the blob
                                        service (sv=2021-08-06, all perms)

The account is devstoreaccount1 with its well-known key; URLs are path
style, http://127.0.0.1:PORT/devstoreaccount1/...  Exit status 0 on
success, 1 with a message on stderr otherwise.
"""
import argparse
import base64
import datetime
import hashlib
import hmac
import http.client
import sys
import urllib.parse

ACCOUNT = "devstoreaccount1"
KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/"
       "K1SZFPTOtr/KBHBeksoGMGw==")
VERSION = "2021-08-06"


def sign(key, text):
    mac = hmac.new(base64.b64decode(key), text.encode(), hashlib.sha256)
    return base64.b64encode(mac.digest()).decode()


def create_container(port, name):
    date = datetime.datetime.now(datetime.timezone.utc).strftime(
        "%a, %d %b %Y %H:%M:%S GMT")
    path = "/%s/%s" % (ACCOUNT, name)
    xms = "x-ms-date:%s\nx-ms-version:%s\n" % (date, VERSION)
    # VERB, 11 standard headers (all empty here), x-ms-*, resource.
    sts = "PUT\n" + "\n" * 11 + xms + "/%s%s\nrestype:container" % (
        ACCOUNT, path)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("PUT", path + "?restype=container", body=b"", headers={
        "x-ms-date": date, "x-ms-version": VERSION,
        "Authorization": "SharedKey %s:%s" % (ACCOUNT, sign(KEY, sts)),
        "Content-Length": "0"})
    r = conn.getresponse()
    body = r.read().decode(errors="replace")
    if r.status in (201, 409):
        return 0
    sys.stderr.write("create container %s: HTTP %d %s\n%s\n" % (
        name, r.status, r.getheader("x-ms-error-code"), body))
    return 1


def account_sas(hours, key):
    expiry = (datetime.datetime.now(datetime.timezone.utc) +
              datetime.timedelta(hours=hours)).strftime("%Y-%m-%dT%H:%M:%SZ")
    perms, services, types = "rwdlacup", "b", "sco"
    sts = "\n".join([ACCOUNT, perms, services, types, "", expiry, "", "",
                     VERSION, ""]) + "\n"
    q = [("sv", VERSION), ("ss", services), ("srt", types), ("sp", perms),
         ("se", expiry), ("sig", sign(key, sts))]
    return urllib.parse.urlencode(q, safe="", quote_via=urllib.parse.quote)


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("container")
    c.add_argument("port", type=int)
    c.add_argument("name")
    s = sub.add_parser("sas")
    s.add_argument("--expiry-hours", type=float, default=24)
    s.add_argument("--key", default=KEY)
    a = ap.parse_args()
    if a.cmd == "container":
        return create_container(a.port, a.name)
    print(account_sas(a.expiry_hours, a.key))
    return 0


if __name__ == "__main__":
    sys.exit(main())
