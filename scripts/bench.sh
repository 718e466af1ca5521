#!/usr/bin/env bash
# bench.sh: the benchmark of issue 7 in one command (not part of the test suite).
#
#   scripts/bench.sh                   7 measured rounds, results printed as markdown
#   scripts/bench.sh -runs 9 -readme   also rewrite the bench block of README.md
#   scripts/bench.sh -h                every flag
#
# It builds the emulator if needed, installs Debian's awscli if /usr/bin/aws is
# missing, and runs the Go harness in bench/, which starts its OWN emulator on port
# base 28333 (IAMWIZARD_BENCH_PORT_BASE moves it; the Quick start's 8333 is never
# touched) with its state in a temporary directory, and stops it by its PID at the end.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x /usr/bin/aws ]; then
  echo "bench: installing awscli (Debian package) for the by-hand scenario" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq awscli >/dev/null
fi

scripts/emulator.sh build

emu_dir=$(mktemp -d)
port_base="${IAMWIZARD_BENCH_PORT_BASE:-28333}"
# The harness stops its emulator itself; this covers a harness that was killed.
cleanup() { IAMWIZARD_EMU_PORT_BASE="$port_base" scripts/emulator.sh stop "$emu_dir" || true; rm -rf "$emu_dir"; }
trap cleanup EXIT

go run ./bench -port-base "$port_base" -emu-dir "$emu_dir" "$@"
