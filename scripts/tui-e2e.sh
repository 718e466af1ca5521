#!/usr/bin/env bash
# tui-e2e.sh: drive the real iamwizard binary's full-screen wizard in tmux at 80x24
# against the emulator, from the welcome screen to the summary, asserting each screen
# with capture-pane; then check with `iamwizard verify --output json` that the setup
# exists. Exits non-zero (printing the last screen, secrets masked) on any failure.
#
# Needs IAMWIZARD_TEST_ENDPOINT, IAMWIZARD_TEST_ADMIN_KEY and IAMWIZARD_TEST_ADMIN_SECRET
# (scripts/test.sh sets them). Installs tmux when missing; fails, never skips.
set -euo pipefail

fail() { echo "tui-e2e: FAIL: $*" >&2; exit 1; }

: "${IAMWIZARD_TEST_ENDPOINT:?tui-e2e: IAMWIZARD_TEST_ENDPOINT is not set (run scripts/test.sh)}"
: "${IAMWIZARD_TEST_ADMIN_KEY:?tui-e2e: IAMWIZARD_TEST_ADMIN_KEY is not set}"
: "${IAMWIZARD_TEST_ADMIN_SECRET:?tui-e2e: IAMWIZARD_TEST_ADMIN_SECRET is not set}"

if ! command -v tmux >/dev/null 2>&1; then
  echo "tui-e2e: installing tmux" >&2
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  if command -v apt-get >/dev/null 2>&1; then
    $SUDO apt-get install -y tmux >/dev/null 2>&1 || { $SUDO apt-get update >/dev/null 2>&1 && $SUDO apt-get install -y tmux >/dev/null 2>&1; } || true
  elif command -v brew >/dev/null 2>&1; then
    brew install tmux >/dev/null 2>&1 || true
  fi
  command -v tmux >/dev/null 2>&1 || fail "tmux is missing and could not be installed"
fi

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORK="$(mktemp -d)"
SOCKET="iamwizard-tui-e2e-$$"   # a private tmux server: other sessions are never touched
SESSION="wizard"
T=(tmux -L "$SOCKET")
cleanup() {
  "${T[@]}" kill-server >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "tui-e2e: building into $WORK" >&2
(cd "$ROOT" && go build -o "$WORK/iamwizard" ./cmd/iamwizard && go build -o "$WORK/mkbucket" ./scripts/mkbucket)

SUFFIX="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
BUCKET="tui-e2e-$SUFFIX"
USER_NAME="tui-e2e-user-$SUFFIX"; ROLE_NAME="tui-e2e-role-$SUFFIX"
USER_POLICY="tui-e2e-up-$SUFFIX"; ROLE_POLICY="tui-e2e-rp-$SUFFIX"
H="$WORK/home"; mkdir -p "$H"

# The isolated environment of an administrator's shell: own home, settings and
# shared files, the emulator's admin key, no endpoint in the environment (the wizard
# gets it as --endpoint-url).
cat >"$WORK/env.sh" <<ENV
export HOME='$H' XDG_CONFIG_HOME='$H/.config' IAMWIZARD_SETTINGS='$H/.config/iamwizard/settings.json'
export AWS_SHARED_CREDENTIALS_FILE='$H/.aws/credentials' AWS_CONFIG_FILE='$H/.aws/config'
export AWS_ACCESS_KEY_ID='$IAMWIZARD_TEST_ADMIN_KEY' AWS_SECRET_ACCESS_KEY='$IAMWIZARD_TEST_ADMIN_SECRET' AWS_REGION=us-east-1
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_STS AWS_ENDPOINT_URL_S3 AWS_ENDPOINT_URL_IAM NO_COLOR ACCESSIBLE
export TERM=xterm-256color
ENV

(. "$WORK/env.sh"; AWS_ENDPOINT_URL="$IAMWIZARD_TEST_ENDPOINT" "$WORK/mkbucket" "$BUCKET") || fail "could not create bucket $BUCKET"

# screen prints the pane with anything that could be a secret masked.
screen() {
  "${T[@]}" capture-pane -p -t "$SESSION" 2>/dev/null |
    sed -E 's/(secret +).*/\1<masked>/; s/(aws_secret_access_key = ).*/\1<masked>/'
}

# wait_for TEXT SECONDS: wait until the screen shows TEXT.
wait_for() {
  local text="$1" deadline=$((SECONDS + ${2:-10}))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if "${T[@]}" capture-pane -p -t "$SESSION" 2>/dev/null | grep -qF -- "$text"; then
      return 0
    fi
    sleep 0.2
  done
  echo "tui-e2e: FAIL: waited ${2:-10}s for: $text" >&2
  echo "---- last screen ----" >&2
  screen >&2
  echo "---------------------" >&2
  exit 1
}

# absent TEXT: fail when the screen shows TEXT.
absent() {
  if "${T[@]}" capture-pane -p -t "$SESSION" | grep -qF -- "$1"; then
    echo "tui-e2e: FAIL: the screen shows: $1" >&2; screen >&2; exit 1
  fi
}

keys() { "${T[@]}" send-keys -t "$SESSION" "$@"; sleep 0.15; }
type_text() { "${T[@]}" send-keys -t "$SESSION" -l "$1"; sleep 0.15; }

WIZARD="$WORK/iamwizard --endpoint-url $IAMWIZARD_TEST_ENDPOINT --user $USER_NAME --role $ROLE_NAME --user-policy $USER_POLICY --role-policy $ROLE_POLICY"
"${T[@]}" new-session -d -s "$SESSION" -x 80 -y 24 \
  "bash --norc --noprofile -c '. $WORK/env.sh; $WIZARD; echo WIZARD-EXIT=\$?; sleep 600'"

echo "tui-e2e: welcome" >&2
wait_for "choose the setup" 15
wait_for "role rather than permissions"
keys Enter

echo "tui-e2e: choices" >&2
wait_for "Where the application writes"
type_text "BAD_bucket"
wait_for "lowercase"                      # validated as you type
keys C-u
type_text "$BUCKET"; keys Enter
type_text "uploads/"; keys Enter
wait_for "IAM names"
wait_for "$USER_NAME"                     # the flags prefill the form
for _ in 1 2 3 4 5; do keys Enter; done
wait_for "Profiles and files"
for _ in 1 2 3 4 5; do keys Enter; done

echo "tui-e2e: plan review" >&2
wait_for "plan review" 60
wait_for "steps that differ; nothing else is touched"
wait_for "to create"
"${T[@]}" resize-window -t "$SESSION" -x 100 -y 30 2>/dev/null || true
sleep 0.3
"${T[@]}" resize-window -t "$SESSION" -x 80 -y 24 2>/dev/null || true
wait_for "steps that differ; nothing else is touched"
keys Down; keys v
wait_for "Document iamwizard writes"
wait_for "sts:AssumeRole"
keys Escape
wait_for "plan review"
keys y

echo "tui-e2e: apply" >&2
wait_for "enter the access key" 240
wait_for "Applied:"
absent "failed"
keys Enter

echo "tui-e2e: access key" >&2
wait_for "(hidden)"
keys s
sleep 0.5
absent "(hidden)"                         # revealed (never printed by this script)
keys s
wait_for "(hidden)"
keys Enter

echo "tui-e2e: verification" >&2
wait_for "All checks passed" 240
keys Enter

echo "tui-e2e: summary" >&2
wait_for "AWS_PROFILE=application-role"
wait_for "role/$ROLE_NAME"
keys q
wait_for "WIZARD-EXIT=0" 15

echo "tui-e2e: iamwizard verify --output json" >&2
set +e
(. "$WORK/env.sh"; "$WORK/iamwizard" verify --output json >"$WORK/verify.json" 2>"$WORK/verify.err")
code=$?
set -e
if [ "$code" -ne 0 ]; then
  cat "$WORK/verify.err" >&2
  fail "iamwizard verify exited $code"
fi
grep -q "\"role/$ROLE_NAME\"\|role/$ROLE_NAME" "$WORK/verify.json" || fail "verify did not report role $ROLE_NAME"
echo "tui-e2e: PASS" >&2
