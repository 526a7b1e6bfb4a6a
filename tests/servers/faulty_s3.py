#!/usr/bin/env python3
"""An S3 endpoint that fails on purpose, for the retry tests.

    faulty_s3.py --fail N --status S [--count-file F] [--copy-error]
                 [--azure] [--auth-file F]

Prints its port on stdout once listening.  A ListObjectsV2 request (the
mount check) always succeeds with an empty listing.  Every other request
is answered with status S and an S3 <Error> body the first N times (N < 0:
always), then 200 (HEAD/GET: a 5-byte object "hello").  After every
request, --count-file holds "requests=N" (listings not counted).
With --copy-error, a CopyObject (PUT with x-amz-copy-source) that gets
through is answered 200 with an <Error> body, as S3 may do.
With --stall, every counted request is read and never answered (the
connection stays open): a store that accepts and then hangs.
Signatures are not checked.
With --azure it speaks Azure Blob Storage instead: the mount check is a
List Blobs (comp=list, an empty EnumerationResults), errors carry
x-ms-error-code (503 ServerBusy, 500 InternalError, 403
AuthenticationFailed), HEAD/GET answer with x-ms-blob-type.  --auth-file
F holds the Authorization header of the last request (listings too).
--skew S sets the server's clock S seconds off the real one (its Date
header says so) and refuses a signed request whose x-amz-date (x-ms-date
with --azure) is more than 15 minutes off that clock, as S3 does (403
RequestTimeTooSkewed) and as Azure does (403 AuthenticationFailed);
--count-file then also holds "skewed=N", the requests so refused.
--encoded-name NAME puts one blob in every Azure listing, its name given
as NAME with Encoded="true" (NAME percent-encoded, as Azure does for names
XML cannot carry).
"""
import argparse
import calendar
import email.utils
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

CODES = {400: "ExpiredToken", 500: "InternalError", 503: "SlowDown", 429: "SlowDown", 403: "AccessDenied"}
AZ_CODES = {500: "InternalError", 503: "ServerBusy", 429: "ServerBusy",
            403: "AuthenticationFailed"}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--fail", type=int, default=-1)
    ap.add_argument("--status", type=int, default=500)
    ap.add_argument("--count-file")
    ap.add_argument("--copy-error", action="store_true")
    ap.add_argument("--azure", action="store_true")
    ap.add_argument("--auth-file")
    ap.add_argument("--encoded-name")
    ap.add_argument("--stall", action="store_true")
    ap.add_argument("--skew", type=int, default=0)
    args = ap.parse_args()
    state = {"n": 0, "skewed": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *a):
            pass

        def date_time_string(self, timestamp=None):
            return email.utils.formatdate(time.time() + args.skew, usegmt=True)

        def too_skewed(self):
            """Is the request's signed time 15 minutes off our clock?"""
            if args.azure:
                t = email.utils.parsedate_to_datetime(self.headers.get("x-ms-date") or "")
                sent = t.timestamp()
            else:
                sent = calendar.timegm(time.strptime(self.headers.get("x-amz-date") or "",
                                                     "%Y%m%dT%H%M%SZ"))
            return abs(sent - (time.time() + args.skew)) > 900

        def refuse_skewed(self, head):
            with lock:
                state["skewed"] += 1
            self.write_counts()
            if args.azure:
                code, msg = "AuthenticationFailed", "Request date header too old"
                return self.send(403, '<?xml version="1.0" encoding="utf-8"?>'
                                 "<Error><Code>%s</Code><Message>%s</Message>"
                                 "</Error>" % (code, msg),
                                 [("Content-Type", "application/xml"),
                                  ("x-ms-error-code", code)], head)
            return self.send(403, '<?xml version="1.0" encoding="UTF-8"?>'
                             "<Error><Code>RequestTimeTooSkewed</Code><Message>The "
                             "difference between the request time and the current "
                             "time is too large.</Message></Error>",
                             [("Content-Type", "application/xml")], head)

        def send(self, status, body, headers=(), head=False):
            data = body.encode()
            self.send_response(status)
            for k, v in headers:
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if not head:
                self.wfile.write(data)

        def handle_any(self, head=False):
            length = int(self.headers.get("Content-Length") or 0)
            if length:
                self.rfile.read(length)
            if args.auth_file:
                with lock:
                    with open(args.auth_file + ".tmp", "w") as f:
                        f.write(self.headers.get("Authorization") or "")
                    os.replace(args.auth_file + ".tmp", args.auth_file)
            if args.skew and self.too_skewed():
                return self.refuse_skewed(head)
            if args.azure:
                return self.azure(head)
            if "list-type=2" in self.path:
                return self.send(200, '<?xml version="1.0" encoding="UTF-8"?>'
                                 "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount>"
                                 "<IsTruncated>false</IsTruncated></ListBucketResult>",
                                 [("Content-Type", "application/xml")], head)
            n = self.count()
            if args.stall:
                threading.Event().wait()  # never answer
            if args.fail < 0 or n <= args.fail:
                code = CODES.get(args.status, "InternalError")
                return self.send(args.status, '<?xml version="1.0" encoding="UTF-8"?>'
                                 "<Error><Code>%s</Code><Message>injected failure %d"
                                 "</Message></Error>" % (code, n),
                                 [("Content-Type", "application/xml")], head)
            if args.copy_error and self.headers.get("x-amz-copy-source"):
                return self.send(200, '<?xml version="1.0" encoding="UTF-8"?>'
                                 "<Error><Code>InternalError</Code><Message>copy "
                                 "failed after 200</Message></Error>",
                                 [("Content-Type", "application/xml")], head)
            self.send(200, "hello", [("ETag", '"5d41402abc4b2a76b9719d911017c592"'),
                                     ("Last-Modified", "Wed, 25 Nov 2026 13:00:00 GMT")], head)

        def count(self):
            with lock:
                state["n"] += 1
                n = state["n"]
            self.write_counts()
            return n

        def write_counts(self):
            if not args.count_file:
                return
            with lock:
                with open(args.count_file + ".tmp", "w") as f:
                    f.write("requests=%d\nskewed=%d\n" % (state["n"], state["skewed"]))
                os.replace(args.count_file + ".tmp", args.count_file)

        def azure(self, head):
            xml = [("Content-Type", "application/xml")]
            if "comp=list" in self.path:
                blobs = ""
                if args.encoded_name:
                    blobs = ('<Blob><Name Encoded="true">%s</Name><Properties>'
                             "<Content-Length>5</Content-Length></Properties>"
                             "</Blob>" % args.encoded_name)
                return self.send(200, '<?xml version="1.0" encoding="utf-8"?>'
                                 "<EnumerationResults><Blobs>%s</Blobs><NextMarker/>"
                                 "</EnumerationResults>" % blobs, xml, head)
            n = self.count()
            if args.fail < 0 or n <= args.fail:
                code = AZ_CODES.get(args.status, "InternalError")
                return self.send(args.status, '<?xml version="1.0" encoding="utf-8"?>'
                                 "<Error><Code>%s</Code><Message>injected failure %d"
                                 "</Message></Error>" % (code, n),
                                 xml + [("x-ms-error-code", code)], head)
            self.send(200 if self.command in ("GET", "HEAD") else 201, "hello",
                      [("ETag", '"0x8DC0000000000001"'), ("x-ms-blob-type", "BlockBlob"),
                       ("Last-Modified", "Wed, 25 Nov 2026 13:00:00 GMT")], head)

        def do_GET(self):
            self.handle_any()

        def do_HEAD(self):
            self.handle_any(head=True)

        def do_PUT(self):
            self.handle_any()

        def do_POST(self):
            self.handle_any()

        def do_DELETE(self):
            self.handle_any()

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # One write, then no more: the reader closes the pipe once it has
    # the line (with PYTHONUNBUFFERED, print() would write twice).
    sys.stdout.write("%d\n" % srv.server_address[1])
    sys.stdout.flush()
    sys.stdout = open(os.devnull, "w")
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
