#!/usr/bin/env bash
# Runs every fuzz target for a short bounded time from its seed corpus (the test command's
# smoke run). Longer campaigns: ./fuzz/run-smoke.sh 600 (seconds per target).
set -euo pipefail
cd "$(dirname "$0")"
secs="${1:-10}"
# Short runs (the test command's smoke run) build without AddressSanitizer: the targets'
# code is safe Rust (every crate but the PKCS#11 ABI and the crypto provider's FFI module
# forbids unsafe, and no target reaches those), and the instrumented build of every
# dependency costs minutes. Longer campaigns keep it; FUZZ_SANITIZER overrides.
if [ "$secs" -le 60 ]; then default_sanitizer=none; else default_sanitizer=address; fi
sanitizer="${FUZZ_SANITIZER:-$default_sanitizer}"
for target in $(cargo +nightly fuzz list); do
  corpus="corpus/$target"
  mkdir -p "$corpus"
  cp -n seeds/"$target"/* "$corpus"/ 2>/dev/null || true
  echo "fuzz: $target for ${secs}s"
  cargo +nightly fuzz run -s "$sanitizer" "$target" "$corpus" -- -max_total_time="$secs" -print_final_stats=1 2>&1 \
    | grep -E "stat::number_of_executed_units|ERROR|panicked|SUMMARY" || true
  # A crash leaves an artifact and a non-zero status from cargo-fuzz; fail on either.
  if compgen -G "artifacts/$target/crash-*" > /dev/null; then
    echo "fuzz: $target crashed; see fuzz/artifacts/$target" >&2
    exit 1
  fi
done
