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
  echo "demo emulator stopped; its data is in $demo_dir"
  exit 0
fi

mkdir -p "$demo_dir/emulator"
if [ -f "$demo_dir/emulator/weed.pid" ] && kill -0 "$(cat "$demo_dir/emulator/weed.pid")" 2>/dev/null; then
  echo "demo emulator already running"
else
  scripts/emulator.sh start "$demo_dir/emulator" >/dev/null
fi
eval "$(scripts/emulator.sh env | sed 's/^/export /')"
endpoint="$AWS_ENDPOINT_URL"
unset AWS_ENDPOINT_URL  # passed as --endpoint-url instead, so it is remembered and written into the profiles
export AWS_REGION=us-east-1
export AWS_SHARED_CREDENTIALS_FILE="$demo_dir/aws/credentials"
export AWS_CONFIG_FILE="$demo_dir/aws/config"
export IAMWIZARD_SETTINGS="$demo_dir/settings.json"

go run ./scripts/mkbucket demo-bucket
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
cat <<INFO

The demo emulator keeps running at $endpoint (stop it with: scripts/demo.sh stop).
Try the application's side, with only the application's identity:
  AWS_CONFIG_FILE=$AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE=$AWS_SHARED_CREDENTIALS_FILE \\
  IAMWIZARD_SETTINGS=$IAMWIZARD_SETTINGS $demo_dir/iamwizard verify
INFO
exit $status
