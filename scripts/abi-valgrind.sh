#!/usr/bin/env bash
# The PKCS#11 ABI torture test (crates/strongroomd/tests/abi_torture.rs) under valgrind's
# memcheck: builds the test binary, then runs it with the C program that loads
# libstrongroom_pkcs11.so under `valgrind --error-exitcode=1 --leak-check=no`, so any memcheck
# error in the library (or the program) fails the test. The appliance (strongroomd) and the
# test binary itself, which never loads the library, run natively.
#
# Usage, from anywhere in the repository: scripts/abi-valgrind.sh
#   STRONGROOM_TORTURE_ROUNDS  rounds per thread (default 1 here: memcheck is slow)
#   VALGRIND_ARGS              more valgrind options
# No suppressions are used.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v valgrind >/dev/null; then
    echo "abi-valgrind: valgrind is not installed (Debian: apt-get install valgrind)" >&2
    exit 2
fi

export CARGO_INCREMENTAL=0
bin=$(cargo test -p strongroomd --test abi_torture --no-run --message-format=json \
    | sed -n 's/.*"executable":"\([^"]*\/abi_torture-[^"]*\)".*/\1/p' | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin" ]; then
    echo "abi-valgrind: the test binary was not found in cargo's output" >&2
    exit 2
fi

start=$(date +%s)
STRONGROOM_TORTURE_ROUNDS="${STRONGROOM_TORTURE_ROUNDS:-1}" \
STRONGROOM_TORTURE_TIMEOUT="${STRONGROOM_TORTURE_TIMEOUT:-1800}" \
STRONGROOM_TORTURE_WRAPPER="valgrind --tool=memcheck --error-exitcode=1 --leak-check=no --quiet ${VALGRIND_ARGS:-}" \
    "$bin" --exact every_function_answers_as_the_specification_says --nocapture
echo "abi-valgrind: no memcheck error ($(($(date +%s) - start)) s under valgrind)"
