#!/usr/bin/env bash
# Runs the Strongroom / SoftHSM2 / raw comparison on this machine and writes
# benchmarks/results/<host>-<date>/ (one JSON file per measurement, an SVG chart per
# operation, and table.md). Strongroom is measured through libstrongroom_pkcs11.so and the
# NTLS link to a development appliance on this machine; SoftHSM2 through its PKCS#11 library
# in-process; raw is aws-lc-rs in-process (the machine's limit).
#
#   benchmarks/run.sh                 # every measurement, 5 s per point
#   DURATION=2 OBJECTS=10000 benchmarks/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."

DURATION=${DURATION:-5}
WARMUP=${WARMUP:-1}
OBJECTS=${OBJECTS:-100000}
SOFTHSM=/usr/lib/softhsm/libsofthsm2.so

if ! command -v softhsm2-util >/dev/null 2>&1; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq softhsm2
fi

# shellcheck source=benchmarks/appliance.sh
. benchmarks/appliance.sh
OUT=$PWD/benchmarks/results/$(hostname)-$(date -u +%Y%m%dT%H%M%SZ)
mkdir -p "$OUT"

# SoftHSM2: a token in the work directory.
export SOFTHSM2_CONF=$work/softhsm2.conf
mkdir -p "$work/softhsm"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
  "$work/softhsm" >"$SOFTHSM2_CONF"
softhsm2-util --init-token --free --label bench --so-pin 87654321 --pin 12345678 >/dev/null
export STRONGROOM_BENCH_COMPARE_PIN=12345678

bench() { "$BIN/strongroom-bench" --duration "$DURATION" --warmup "$WARMUP" --quiet "$@"; }

# name op threads [extra options]
measure() {
  local name=$1 op=$2 threads=$3
  shift 3
  echo "== $op, threads $threads $*" >&2
  bench --module "$LIB" --compare "$SOFTHSM" --compare-token bench --op "$op" \
    --threads "$threads" --json --svg "$OUT/$name.svg" "$@" >"$OUT/$name.json"
  if [ "$op" != find-label ]; then
    bench --module raw --op "$op" --threads "$threads" --json "$@" >"$OUT/$name-raw.json"
  fi
}

measure rsa2048-sign rsa2048-pkcs-sign 1,2,8
measure rsa2048-pss-sign rsa2048-pss-sign 8
measure ecdsa-p256-sign ecdsa-p256-sign 1,2,16
measure ecdsa-p256-verify ecdsa-p256-verify 16
measure ed25519-sign ed25519-sign 16
measure aes-gcm-4k aes-gcm-encrypt 8 --size 4096
measure aes-cbc-4k aes-cbc-encrypt 8 --size 4096
measure hmac hmac-sha256 8 --size 1024
measure random random 1 --size 32
measure ec-keygen ec-p256-keygen 8
# Finding by label among many token objects: Strongroom with OBJECTS of them; SoftHSM2 (one
# file per object) with SOFTHSM_OBJECTS, as making 100,000 files there takes too long.
echo "== find-label among $OBJECTS objects (SoftHSM2: ${SOFTHSM_OBJECTS:-5000})" >&2
bench --module "$LIB" --op find-label --threads 1 --objects "$OBJECTS" --json >"$OUT/find-label.json"
bench --module "$SOFTHSM" --token bench --pin "$STRONGROOM_BENCH_COMPARE_PIN" --op find-label \
  --threads 1 --objects "${SOFTHSM_OBJECTS:-5000}" --json >"$OUT/find-label-softhsm.json"

# Start-up time with those objects: the appliance restarted, until NTLS answers.
kill "$appliance_pid"
wait "$appliance_pid" 2>/dev/null || true
start=$(date +%s%N)
start_appliance "$work/appliance2.log"
startup_ms=$((($(date +%s%N) - start) / 1000000))

{
  echo "Taken $(date -u +%Y-%m-%d) on $(hostname): $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/ {print $2}') GiB; ${DURATION} s per point."
  echo
  "$BIN/strongroom-bench" --report "$OUT"
  echo
  echo "Appliance start with $OBJECTS token objects: ${startup_ms} ms to NTLS listening; resident memory then: $(grep VmRSS /proc/$appliance_pid/status | awk '{print $2, $3}')."
} >"$OUT/table.md"
cat "$OUT/table.md"
echo "Results in $OUT" >&2
