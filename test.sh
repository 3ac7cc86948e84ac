#!/usr/bin/env bash
# Runs Strongroom's whole test suite on a fresh Debian machine, installing what it needs.
set -euo pipefail
cd "$(dirname "$0")"

need_pkgs=()
command -v cc >/dev/null 2>&1 || need_pkgs+=(build-essential)
command -v tmux >/dev/null 2>&1 || need_pkgs+=(tmux)
# The SSH tests drive the real OpenSSH client (ssh, scp, sftp, ssh-keygen).
command -v ssh >/dev/null 2>&1 || need_pkgs+=(openssh-client)
command -v ssh-keygen >/dev/null 2>&1 || need_pkgs+=(openssh-client)
# The load generator's tests and the benchmarks measure SoftHSM2 beside Strongroom.
command -v softhsm2-util >/dev/null 2>&1 || need_pkgs+=(softhsm2)
# Real PKCS#11 applications driven against the client library.
command -v pkcs11-tool >/dev/null 2>&1 || need_pkgs+=(opensc)
command -v p11tool >/dev/null 2>&1 || need_pkgs+=(gnutls-bin)
[ -e /usr/lib/x86_64-linux-gnu/engines-3/pkcs11.so ] || need_pkgs+=(libengine-pkcs11-openssl)
command -v javac >/dev/null 2>&1 || need_pkgs+=(default-jdk-headless)
# The PKCS#11 ABI torture also runs under valgrind's memcheck.
command -v valgrind >/dev/null 2>&1 || need_pkgs+=(valgrind)
# The remote logging tests send to a real rsyslogd, with its GnuTLS driver for TLS.
[ -x /usr/sbin/rsyslogd ] || need_pkgs+=(rsyslog)
[ -e /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_gtls.so ] || need_pkgs+=(rsyslog-gnutls)
if [ ${#need_pkgs[@]} -gt 0 ]; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${need_pkgs[@]}"
fi

# A clean checkout gains nothing from incremental artefacts, and they cost gigabytes of disk.
export CARGO_INCREMENTAL=0

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# Supply chain: licences, banned crates and sources (deny.toml). The advisory database cannot
# be fetched here; `cargo deny check advisories` runs where it can.
command -v cargo-deny >/dev/null 2>&1 || cargo install cargo-deny --locked
cargo deny --offline check licenses bans sources
# cargo-nextest (on these machines) runs the test binaries side by side, each test in its own
# process; the doc tests still need cargo test. Without it, cargo test runs everything.
if command -v cargo-nextest >/dev/null 2>&1; then
  cargo nextest run --workspace --locked
  cargo test --workspace --doc --locked
else
  cargo test --workspace --locked
fi
./scripts/abi-valgrind.sh

# Fuzz smoke run: every target of fuzz/ for a bounded time (nightly + cargo-fuzz).
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
./fuzz/run-smoke.sh 10
