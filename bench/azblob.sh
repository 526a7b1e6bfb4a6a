#!/bin/bash
# bench/azblob.sh: the azblob section of `make bench`: scopefs's azblob
# plugin vs. rclone's azureblob remote on one local Azurite
# (bench/store-azblob.sh, bench/objstore.sh).
BENCH_STORE=azblob exec bash "$(dirname "$0")/objstore.sh" "$@"
