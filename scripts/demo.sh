#!/usr/bin/env bash
# demo.sh: run iamwizard against a local emulator, no AWS account needed.
#
#   scripts/demo.sh [iamwizard args...]   start the emulator (built once), make a bucket,
#                                         run the wizard (or `apply --yes` without a terminal)
#   scripts/demo.sh stop                  stop the demo emulator
#
# Everything the demo writes (profiles, settings, emulator data) stays in one demo
# directory; your own ~/.aws files are never touched.
set -euo pipefail
cd "$(dirname "$0")/.."
demo_dir="${IAMWIZARD_DEMO_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/iamwizard/demo}"

if [ "${1:-}" = "stop" ]; then
  scripts/emulator.sh stop "$demo_dir/emulator"
  echo "demo emulator stopped; its data is in $demo_dir" >&2
  exit 0
fi

mkdir -p "$demo_dir/emulator"
if [ -f "$demo_dir/emulator/weed.pid" ] && kill -0 "$(cat "$demo_dir/emulator/weed.pid")" 2>/dev/null; then
  echo "demo emulator already running" >&2
else
  scripts/emulator.sh start "$demo_dir/emulator" >/dev/null
fi
eval "$(scripts/emulator.sh env | sed 's/^/export /')"
endpoint="$AWS_ENDPOINT_URL"
export AWS_REGION=us-east-1
go run ./scripts/mkbucket demo-bucket
# The endpoint goes to iamwizard as --endpoint-url instead, so it is remembered and
# written into the application's profiles.
unset AWS_ENDPOINT_URL
export AWS_SHARED_CREDENTIALS_FILE="$demo_dir/aws/credentials"
export AWS_CONFIG_FILE="$demo_dir/aws/config"
export IAMWIZARD_SETTINGS="$demo_dir/settings.json"
go build -o "$demo_dir/iamwizard" ./cmd/iamwizard

args=("$@")
if [ ${#args[@]} -eq 0 ]; then
  if [ -t 0 ] && [ -t 1 ]; then
    args=(--endpoint-url "$endpoint" --bucket demo-bucket --key-prefix uploads/)
  else
    args=(apply --yes --endpoint-url "$endpoint" --bucket demo-bucket --key-prefix uploads/)
  fi
fi
set +e
"$demo_dir/iamwizard" "${args[@]}"
status=$?
set -e
env_line="AWS_CONFIG_FILE=$AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE=$AWS_SHARED_CREDENTIALS_FILE"
stop_env=""
[ -n "${IAMWIZARD_DEMO_DIR:-}" ] && stop_env="IAMWIZARD_DEMO_DIR=$IAMWIZARD_DEMO_DIR "
[ -n "${IAMWIZARD_EMU_PORT_BASE:-}" ] && stop_env="${stop_env}IAMWIZARD_EMU_PORT_BASE=$IAMWIZARD_EMU_PORT_BASE "
cat >&2 <<INFO

The demo emulator keeps running at $endpoint; stop it with:
  ${stop_env}scripts/demo.sh stop

Run the wizard again, or any command, against it (the admin is the emulator's; your
choices are remembered, so no other flag is needed):
  ${stop_env}scripts/demo.sh verify
  ${stop_env}scripts/demo.sh plan --output json

The application's side, with only the application's identity (no admin key at all):
  echo hello > /tmp/hello.txt
  env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY $env_line \\
    IAMWIZARD_SETTINGS=$IAMWIZARD_SETTINGS $demo_dir/iamwizard upload /tmp/hello.txt
INFO
exit $status
