#!/bin/bash
# bench/gcs.sh: the gcs section of `make bench`: scopefs's gcs plugin vs.
# rclone's "google cloud storage" remote on one local Cloud Storage
# emulator (bench/store-gcs.sh, bench/objstore.sh).
BENCH_STORE=gcs exec bash "$(dirname "$0")/objstore.sh" "$@"
