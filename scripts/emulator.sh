#!/usr/bin/env bash
# emulator.sh: build, start and stop SeaweedFS `weed mini`, the AWS-API endpoint
# (S3, IAM, STS) that the integration tests and the Quick start run against.
#
#   scripts/emulator.sh build          build the binary once into the cache (~10 min cold)
#   scripts/emulator.sh start DIR      start on 127.0.0.1 with state in DIR; prints the PID
#   scripts/emulator.sh stop DIR       stop the instance started with DIR, by its PID
#   scripts/emulator.sh path           print where the cached binary is
#
# The binary is kept outside the repository, keyed by version, so CI on a machine that
# already built it reuses it. Ports can be moved with IAMWIZARD_EMU_PORT_BASE.
set -euo pipefail

WEED_VERSION="v0.0.0-20261109003541-7506e5f91cd6"
CACHE_DIR="${IAMWIZARD_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/iamwizard}"
WEED_BIN="$CACHE_DIR/weed-$WEED_VERSION/weed"

# The static admin identity of the emulator. These are test-only values that exist
# nowhere but in a local emulator; they are not AWS credentials.
EMU_ADMIN_KEY="${IAMWIZARD_EMU_ADMIN_KEY:-AKIAEMULATORADMIN000}"
EMU_ADMIN_SECRET="${IAMWIZARD_EMU_ADMIN_SECRET:-emulator-admin-secret-not-a-real-key}"

BASE="${IAMWIZARD_EMU_PORT_BASE:-8333}"
S3_PORT="$BASE"

build() {
  if [ -x "$WEED_BIN" ]; then
    echo "emulator: cached at $WEED_BIN" >&2
    return 0
  fi
  echo "emulator: building SeaweedFS $WEED_VERSION (about 10 minutes the first time)..." >&2
  mkdir -p "$(dirname "$WEED_BIN")"
  # Run outside any module so the project's go.mod is not touched; the SeaweedFS
  # module is then built as its own main module (its replace directives forbid go install).
  (cd / && GOFLAGS=-mod=mod go mod download "github.com/seaweedfs/seaweedfs@$WEED_VERSION")
  local src
  src="$(go env GOMODCACHE)/github.com/seaweedfs/seaweedfs@$WEED_VERSION"
  (cd "$src" && GOFLAGS=-mod=mod go build -o "$WEED_BIN.tmp" ./weed)
  mv "$WEED_BIN.tmp" "$WEED_BIN"
  echo "emulator: built $WEED_BIN" >&2
}

start() {
  local dir="${1:?usage: emulator.sh start DIR}"
  build
  mkdir -p "$dir/data"
  # Every port is set, all within BASE..BASE+7, so instances whose bases are at least
  # 10 apart never collide.
  AWS_ACCESS_KEY_ID="$EMU_ADMIN_KEY" AWS_SECRET_ACCESS_KEY="$EMU_ADMIN_SECRET" \
    nohup "$WEED_BIN" mini -dir="$dir/data" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.telemetry=false -webdav=false -admin.ui=false \
    -s3.port.iceberg=0 -s3.port.lance=0 -s3.iam.readOnly=false \
    -s3.port="$S3_PORT" -master.volumeSizeLimitMB=32 \
    -master.port=$((BASE + 1)) -master.port.grpc=$((BASE + 5)) \
    -filer.port=$((BASE + 2)) -filer.port.grpc=$((BASE + 6)) \
    -volume.port=$((BASE + 3)) -volume.port.grpc=$((BASE + 7)) \
    -s3.port.grpc=$((BASE + 4)) \
    >"$dir/weed.log" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/weed.pid"
  local url="http://127.0.0.1:$S3_PORT"
  for _ in $(seq 1 120); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "emulator: exited during start; last lines of $dir/weed.log:" >&2
      tail -20 "$dir/weed.log" >&2
      return 1
    fi
    if curl -s -o /dev/null "$url/"; then
      echo "emulator: ready at $url (pid $pid)" >&2
      echo "$pid"
      return 0
    fi
    sleep 0.5
  done
  echo "emulator: not ready after 60 s; see $dir/weed.log" >&2
  kill "$pid" 2>/dev/null || true
  return 1
}

stop() {
  local dir="${1:?usage: emulator.sh stop DIR}"
  [ -f "$dir/weed.pid" ] || return 0
  local pid
  pid="$(cat "$dir/weed.pid")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 1 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  fi
  rm -f "$dir/weed.pid"
}

case "${1:-}" in
  build) build ;;
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  path) echo "$WEED_BIN" ;;
  env)
    echo "AWS_ACCESS_KEY_ID=$EMU_ADMIN_KEY"
    echo "AWS_SECRET_ACCESS_KEY=$EMU_ADMIN_SECRET"
    echo "AWS_ENDPOINT_URL=http://127.0.0.1:$S3_PORT" ;;
  *) sed -n '2,10p' "$0" >&2; exit 2 ;;
esac
