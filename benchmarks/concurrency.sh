#!/usr/bin/env bash
# Many sessions over many connections: CONNECTIONS client processes (each loads
# libstrongroom_pkcs11.so, so each has its own NTLS connection) with SESSIONS_PER threads each,
# one session per thread, all signing with ECDSA P-256 against one development appliance for
# DURATION seconds. Prints the total throughput, the errors, and the latency percentiles: p50
# as the median of the processes' p50, p99 as the worst process's p99 (an upper bound of the
# whole run's p99).
#
#   benchmarks/concurrency.sh                       # 100 connections x 10 sessions, 10 s
#   CONNECTIONS=20 SESSIONS_PER=5 DURATION=5 benchmarks/concurrency.sh
set -euo pipefail
cd "$(dirname "$0")/.."

CONNECTIONS=${CONNECTIONS:-100}
SESSIONS_PER=${SESSIONS_PER:-10}
DURATION=${DURATION:-10}
OP=${OP:-ecdsa-p256-sign}

# shellcheck source=benchmarks/appliance.sh
. benchmarks/appliance.sh

echo "== $OP: $CONNECTIONS connections x $SESSIONS_PER sessions, ${DURATION} s" >&2
pids=()
for i in $(seq "$CONNECTIONS"); do
  "$BIN/strongroom-bench" --module "$LIB" --op "$OP" --threads "$SESSIONS_PER" \
    --sessions per-thread --duration "$DURATION" --warmup 2 --quiet --json \
    >"$work/run-$i.json" 2>"$work/run-$i.err" &
  pids+=($!)
done
failed=0
for p in "${pids[@]}"; do
  wait "$p" || failed=$((failed + 1))
done

python3 - "$work" "$CONNECTIONS" "$SESSIONS_PER" "$failed" <<'PY'
import glob, json, statistics, sys
work, conns, per, failed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rows = []
for f in sorted(glob.glob(f"{work}/run-*.json")):
    try:
        rows += json.load(open(f))
    except ValueError:
        pass
ops = sum(r["ops_per_sec"] for r in rows)
errors = sum(r["errors"] for r in rows)
print(f"connections: {conns}, sessions: {conns * per}, processes reporting: {len(rows)}, processes failed: {failed}")
print(f"throughput: {ops:.0f} ops/s, errors: {errors}")
if rows:
    print(f"p50 (median of processes): {statistics.median(r['p50_us'] for r in rows) / 1000:.2f} ms")
    print(f"p99 (worst process): {max(r['p99_us'] for r in rows) / 1000:.2f} ms")
    print(f"max: {max(r['max_us'] for r in rows) / 1000:.2f} ms")
PY
sessions=$(grep -c "NTLS client connected" "$work/appliance.log" || true)
echo "NTLS connections accepted by the appliance: $sessions"
