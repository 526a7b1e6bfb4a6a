#!/usr/bin/env python3
"""s3-ceiling: what the S3 server alone sustains, for bench/s3.sh.

One client, one keep-alive connection, requests one after another, signed
with SigV4 (UNSIGNED-PAYLOAD), through the same counting proxy as the FUSE
tools.  Measures, under PREFIX/ (removed at the end):

  put_MBps   one PUT of SEQ_MB MiB        get_MBps    one GET of it
  mpu_MBps   the same as a multipart upload of 8 MiB parts, one at a time
  complete_ms  its CompleteMultipartUpload alone (s3rver joins the parts)
  put4k_s    N PUTs of 4 KiB, per second  head_s      N HEADs, per second
  get4k_s    N GETs of 4 KiB, per second  list_ms     one ListObjectsV2 of
  delete_s   N DELETEs, per second                    the N keys (delimiter /)

Prints "KEY<TAB>VALUE" lines.  No FUSE client can beat these figures by
much: they are the server's own cost per request and per byte.

  s3-ceiling.py PORT BUCKET PREFIX SEQ_MB N     (keys S3RVER/S3RVER, us-east-1)
"""
import datetime
import hashlib
import hmac
import http.client
import sys
import time
import urllib.parse

ACCESS = SECRET = "S3RVER"
REGION = "us-east-1"


def quote(s, safe="/"):
    return urllib.parse.quote(s, safe=safe + "-_.~")


class Client:
    def __init__(self, port, bucket):
        self.host = "127.0.0.1:%d" % port
        self.bucket = bucket
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

    def sign(self, method, path, query, headers):
        now = datetime.datetime.now(datetime.timezone.utc)
        amzdate = now.strftime("%Y%m%dT%H%M%SZ")
        day = amzdate[:8]
        headers["host"] = self.host
        headers["x-amz-date"] = amzdate
        headers["x-amz-content-sha256"] = "UNSIGNED-PAYLOAD"
        names = sorted(h.lower() for h in headers)
        lower = {k.lower(): str(v).strip() for k, v in headers.items()}
        canon_headers = "".join("%s:%s\n" % (n, lower[n]) for n in names)
        signed = ";".join(names)
        canon_query = "&".join(
            "%s=%s" % (quote(k, ""), quote(v, "")) for k, v in sorted(query.items()))
        creq = "\n".join([method, quote(path), canon_query, canon_headers, signed,
                          "UNSIGNED-PAYLOAD"])
        scope = "%s/%s/s3/aws4_request" % (day, REGION)
        sts = "\n".join(["AWS4-HMAC-SHA256", amzdate, scope,
                         hashlib.sha256(creq.encode()).hexdigest()])
        k = ("AWS4" + SECRET).encode()
        for part in (day, REGION, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (
            "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s"
            % (ACCESS, scope, signed, sig))
        return canon_query

    def request(self, method, key, query=None, body=None, length=0, sink=False,
                keep=False):
        query = query or {}
        path = "/%s/%s" % (self.bucket, key) if key is not None else "/%s" % self.bucket
        headers = {}
        if method in ("PUT", "POST"):
            headers["Content-Length"] = str(length)
        q = self.sign(method, path, query, headers)
        self.conn.request(method, quote(path) + ("?" + q if q else ""), body=body,
                          headers=headers)
        resp = self.conn.getresponse()
        n = 0
        kept = b""
        while True:
            chunk = resp.read(1 << 20)
            if not chunk:
                break
            n += len(chunk)
            if keep:
                kept += chunk
            if not sink and n > (1 << 24):
                break
        if resp.status >= 300:
            raise RuntimeError("%s %s: HTTP %d" % (method, path, resp.status))
        return kept if keep else n


def zeros(mb):
    block = bytes(1 << 20)
    for _ in range(mb):
        yield block


def main():
    if len(sys.argv) != 6:
        sys.exit(__doc__)
    port, bucket, prefix = int(sys.argv[1]), sys.argv[2], sys.argv[3].strip("/")
    mb, n = int(sys.argv[4]), int(sys.argv[5])
    c = Client(port, bucket)
    small = bytes(4096)
    keys = ["%s/small/f%06d" % (prefix, i) for i in range(n)]
    big = "%s/seq.dat" % prefix
    out = []

    t = time.monotonic()
    c.request("PUT", big, body=zeros(mb), length=mb << 20)
    out.append(("put_MBps", (mb << 20) / (time.monotonic() - t) / 1e6))
    t = time.monotonic()
    got = c.request("GET", big, sink=True)
    out.append(("get_MBps", got / (time.monotonic() - t) / 1e6))
    c.request("DELETE", big)

    # The same bytes as a multipart upload, 8 MiB parts one after another.
    t = time.monotonic()
    xml = c.request("POST", big, query={"uploads": ""}, keep=True).decode()
    upload = xml.split("<UploadId>")[1].split("</UploadId>")[0]
    parts = []
    for i in range(1, max(1, mb // 8) + 1):
        c.request("PUT", big, query={"partNumber": str(i), "uploadId": upload},
                  body=zeros(8), length=8 << 20)
        parts.append("<Part><PartNumber>%d</PartNumber><ETag>\"%s\"</ETag></Part>"
                      % (i, hashlib.md5(bytes(8 << 20)).hexdigest()))
    body = ("<CompleteMultipartUpload>%s</CompleteMultipartUpload>"
            % "".join(parts)).encode()
    t2 = time.monotonic()
    c.request("POST", big, query={"uploadId": upload}, body=body, length=len(body))
    end = time.monotonic()
    out.append(("mpu_MBps", (max(1, mb // 8) * (8 << 20)) / (end - t) / 1e6))
    out.append(("complete_ms", (end - t2) * 1000))
    c.request("DELETE", big)

    for name, method in (("put4k_s", "PUT"), ("head_s", "HEAD"), ("get4k_s", "GET")):
        t = time.monotonic()
        for k in keys:
            c.request(method, k, body=small if method == "PUT" else None,
                      length=len(small))
        out.append((name, n / (time.monotonic() - t)))
    t = time.monotonic()
    c.request("GET", None, query={"list-type": "2", "delimiter": "/",
                                  "prefix": prefix + "/small/"}, sink=True)
    out.append(("list_ms", (time.monotonic() - t) * 1000))
    t = time.monotonic()
    for k in keys:
        c.request("DELETE", k)
    out.append(("delete_s", n / (time.monotonic() - t)))

    for k, v in out:
        print("%s\t%.1f" % (k, v))


if __name__ == "__main__":
    main()
