#!/usr/bin/env python3
"""A tiny Azure managed-identity token endpoint (the instance metadata
service's /metadata/identity/oauth2/token) for the azblob tests.

    msi.py [--first-ttl S] [--ttl S] [--count-file F]

Prints its port on stdout once listening, then answers a GET of
/metadata/identity/oauth2/token?api-version=...&resource=... that carries
"Metadata: true" with {"access_token": "token-N", "expires_on": EPOCH,
"expires_in": S, ...}; without the header, 400.  The first token expires
--first-ttl seconds from now, later ones --ttl seconds.  Before each
answer, --count-file holds "tokens=N resource_ok=0|1" (N tokens served;
whether the last request asked for https://storage.azure.com/).
"""
import argparse
import json
import os
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--first-ttl", type=int, default=3600)
    ap.add_argument("--ttl", type=int, default=3600)
    ap.add_argument("--count-file")
    args = ap.parse_args()
    state = {"n": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, status, body):
            data = body.encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            u = urllib.parse.urlsplit(self.path)
            q = urllib.parse.parse_qs(u.query)
            if u.path != "/metadata/identity/oauth2/token":
                return self.reply(404, '{"error":"not_found"}')
            if self.headers.get("Metadata") != "true":
                return self.reply(400, '{"error":"invalid_request"}')
            resource_ok = q.get("resource") == ["https://storage.azure.com/"]
            with lock:
                state["n"] += 1
                n = state["n"]
                if args.count_file:
                    with open(args.count_file + ".tmp", "w") as f:
                        f.write("tokens=%d resource_ok=%d\n" % (n, resource_ok))
                    os.replace(args.count_file + ".tmp", args.count_file)
            ttl = args.first_ttl if n == 1 else args.ttl
            now = int(time.time())
            self.reply(200, json.dumps({
                "access_token": "token-%d" % n,
                "expires_on": str(now + ttl),
                "expires_in": str(ttl),
                "resource": "https://storage.azure.com/",
                "token_type": "Bearer",
            }))

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    sys.stdout = open(os.devnull, "w")
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
