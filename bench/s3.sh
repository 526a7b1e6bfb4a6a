#!/bin/bash
# bench/s3.sh: the s3 section of `make bench`: scopefs's s3 plugin vs. s3fs
# and rclone on one local S3 server (bench/store-s3.sh, bench/objstore.sh).
BENCH_STORE=s3 exec bash "$(dirname "$0")/objstore.sh" "$@"
