#!/usr/bin/env bash
# Soak test, not part of ./test.sh: many NTLS clients run mixed operations (random, digests,
# AES-GCM, ECDSA, token and session objects, searches) against a real appliance for a
# configurable time. Prints per-interval throughput, errors (must stay 0) and the appliance's
# resident memory, then the memory slope.
#
#   SOAK_SECONDS=600 SOAK_CLIENTS=32 ./scripts/soak.sh
#
# Settings: SOAK_SECONDS (default 300), SOAK_CLIENTS (default 16), SOAK_INTERVAL_SECS
# (default 10), SOAK_SEED, SOAK_MAX_SLOPE_KIB_PER_MIN (fail above this memory growth).
set -euo pipefail
cd "$(dirname "$0")/.."
export SOAK_SECONDS="${SOAK_SECONDS:-300}"
export SOAK_CLIENTS="${SOAK_CLIENTS:-16}"
export SOAK_INTERVAL_SECS="${SOAK_INTERVAL_SECS:-10}"
exec cargo test --release -p strongroomd --test soak -- --ignored --nocapture --exact soak
