# Sourced by the benchmark scripts: builds the release binaries and starts a development
# appliance whose partition is ready for this client, in a work directory removed on exit.
# Sets BIN, LIB, work, appliance_pid, STRONGROOM_CONF and STRONGROOM_BENCH_PIN; `value NAME`
# reads the appliance's dev-credentials.toml; `start_appliance [LOG]` starts it again.

cargo build --release --locked -p strongroomd -p strongroom-pkcs11 -p strongroom-bench
BIN=${CARGO_TARGET_DIR:-$PWD/target}/release
LIB=$BIN/libstrongroom_pkcs11.so
work=$(mktemp -d)
appliance_pid=""
cleanup() {
  [ -n "$appliance_pid" ] && kill "$appliance_pid" 2>/dev/null && wait "$appliance_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

start_appliance() {
  local log=${1:-$work/appliance.log}
  "$BIN/strongroomd" dev --dir "$work/appliance" >"$log" 2>&1 &
  appliance_pid=$!
  for _ in $(seq 600); do
    grep -q "NTLS service listening" "$log" && break
    sleep 0.05
  done
}

start_appliance
creds=$work/appliance/dev-credentials.toml
value() { sed -n "s/^$1 = \"\(.*\)\"$/\1/p" "$creds"; }
export STRONGROOM_CONF
STRONGROOM_CONF=$(value client_config)
export STRONGROOM_BENCH_PIN
STRONGROOM_BENCH_PIN=$(value crypto_officer_password)
