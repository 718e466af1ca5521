#!/usr/bin/env bash
# test.sh: every check and test of the project, the emulator included. This is the
# README's test command and what CI runs (.ci/run).
#
# It formats-checks, vets and lints, starts ONE emulator on 127.0.0.1 for the whole run
# (go test runs packages in parallel; they share it with unique names), runs all Go
# tests with the end-to-end ones required (a missing emulator fails, never skips), runs
# the terminal end-to-end script, and stops the emulator by its PID.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n== %s\n' "$*"; }

step "tools"
need_apt=()
command -v tmux >/dev/null || need_apt+=(tmux)
command -v curl >/dev/null || need_apt+=(curl)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "installing ${need_apt[*]} (Debian packages)"
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

step "gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then echo "not gofmt-ed:"; echo "$unformatted"; exit 1; fi

step "go vet"
go vet ./...

step "golangci-lint"
lint_bin="${IAMWIZARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iamwizard}/bin/golangci-lint-v2.15.0"
if [ ! -x "$lint_bin" ]; then
  mkdir -p "$(dirname "$lint_bin")"
  tmp_gobin=$(mktemp -d)
  GOBIN="$tmp_gobin" go install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@v2.15.0
  mv "$tmp_gobin/golangci-lint" "$lint_bin"
fi
"$lint_bin" run ./...

step "emulator"
scripts/emulator.sh build
emu_dir=$(mktemp -d)
cleanup() { scripts/emulator.sh stop "$emu_dir" || true; rm -rf "$emu_dir"; }
trap cleanup EXIT
# Ports of its own, so a developer's Quick start emulator on 8333 is left alone; if
# something else holds them, the next base is tried.
started=""
for base in ${IAMWIZARD_EMU_PORT_BASE:-18333 18433 18533 18633}; do
  export IAMWIZARD_EMU_PORT_BASE="$base"
  if scripts/emulator.sh start "$emu_dir" >/dev/null; then started=yes; break; fi
  rm -rf "$emu_dir" && mkdir -p "$emu_dir"
done
[ -n "$started" ] || { echo "could not start the emulator on any port base"; exit 1; }
eval "$(scripts/emulator.sh env | sed 's/^/export /')"
export IAMWIZARD_TEST_ENDPOINT="$AWS_ENDPOINT_URL"
export IAMWIZARD_TEST_ADMIN_KEY="$AWS_ACCESS_KEY_ID"
export IAMWIZARD_TEST_ADMIN_SECRET="$AWS_SECRET_ACCESS_KEY"
unset AWS_ENDPOINT_URL AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
export IAMWIZARD_REQUIRE_EMULATOR=1 IAMWIZARD_REQUIRE_BROWSER=1

step "go test"
go test -count=1 -timeout 30m ./...

if [ -x scripts/tui-e2e.sh ]; then
  step "terminal end-to-end (tmux)"
  scripts/tui-e2e.sh
fi
echo
echo "all checks passed"
