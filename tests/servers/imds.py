#!/usr/bin/env python3
"""A tiny EC2 instance metadata service (IMDSv2 only) for the S3 tests.

    imds.py [--first-ttl S] [--ttl S] [--count-file F] [--role R]
            [--key AKID] [--secret SECRET]

Prints its port on stdout once listening (port 0 = any free port), then
serves:
  PUT /latest/api/token            needs X-aws-ec2-metadata-token-ttl-seconds
  GET /latest/meta-data/iam/security-credentials/       the role name
  GET /latest/meta-data/iam/security-credentials/ROLE   keys as JSON
The GETs need the token from the PUT (else 401).  The first keys expire
--first-ttl seconds from now, later ones --ttl seconds from now; each set
carries Token "token-N".  After every request, --count-file holds
"tokens=N keys=M".
"""
import argparse
import os
import datetime
import json
import secrets
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PREFIX = "/latest/meta-data/iam/security-credentials/"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--first-ttl", type=int, default=3600)
    ap.add_argument("--ttl", type=int, default=3600)
    ap.add_argument("--count-file")
    ap.add_argument("--role", default="scopefs-test-role")
    ap.add_argument("--key", default="S3RVER")
    ap.add_argument("--secret", default="S3RVER")
    args = ap.parse_args()
    state = {"tokens": set(), "ntokens": 0, "nkeys": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def reply(self, status, body, ctype="text/plain"):
            data = body.encode()
            # Before the answer, whole (rename), under the lock: a client
            # that has its answer reads counts that include it, and a
            # slower thread's older counts never overwrite newer ones.
            if args.count_file:
                with lock:
                    tmp = args.count_file + ".tmp"
                    with open(tmp, "w") as f:
                        f.write("tokens=%d keys=%d\n" % (state["ntokens"], state["nkeys"]))
                    os.replace(tmp, args.count_file)
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_PUT(self):
            if self.path != "/latest/api/token":
                return self.reply(404, "not found")
            if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                return self.reply(400, "missing ttl")
            tok = secrets.token_hex(16)
            with lock:
                state["tokens"].add(tok)
                state["ntokens"] += 1
            self.reply(200, tok)

        def do_GET(self):
            with lock:
                ok = self.headers.get("X-aws-ec2-metadata-token") in state["tokens"]
            if not ok:
                return self.reply(401, "unauthorized")
            if self.path == PREFIX:
                return self.reply(200, args.role)
            if self.path != PREFIX + args.role:
                return self.reply(404, "not found")
            with lock:
                state["nkeys"] += 1
                n = state["nkeys"]
            ttl = args.first_ttl if n == 1 else args.ttl
            exp = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=ttl)
            self.reply(200, json.dumps({
                "Code": "Success",
                "LastUpdated": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Type": "AWS-HMAC",
                "AccessKeyId": args.key,
                "SecretAccessKey": args.secret,
                "Token": "token-%d" % n,
                "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }), "application/json")

    srv = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    # One write, then no more: the reader closes the pipe once it has
    # the line (with PYTHONUNBUFFERED, print() would write twice).
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    sys.stdout = open(os.devnull, "w")
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
