#!/usr/bin/env bash
# Builds the upstream Gateway API conformance suite (sigs.k8s.io/gateway-api/conformance, as a
# test binary) and the echo-basic backend its manifests deploy, from the pins in
# hack/conformance, into $WEIR_CACHE_DIR/conformance/<key>/bin. Both modules need Go >= 1.27,
# so this script (and only this one) runs the approved go1.27.3 toolchain; the go command
# fetches it from the module proxy.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_go
export GOTOOLCHAIN=$GATEWAY_API_GOTOOLCHAIN
export CGO_ENABLED=0

self=$WEIR_ROOT/hack/build-conformance.sh
src=$WEIR_ROOT/hack/conformance
cd "$src"

key=$(
  {
    sha256sum go.mod go.sum tools.go "$self"
    go version
  } | sha256sum | cut -c1-16
)
out=$WEIR_CACHE_DIR/conformance/$key

# One build at a time: a second caller (another worktree, a parallel test run) waits for the
# first and then finds its result, instead of compiling the same packages again.
mkdir -p "$WEIR_CACHE_DIR/conformance"
exec 9>"$WEIR_CACHE_DIR/conformance/.lock"
flock 9

if [[ -x $out/bin/conformance.test && -x $out/bin/echo-basic ]]; then
  ln -sfn "$key" "$WEIR_CACHE_DIR/conformance/current"
  log "conformance suite $GATEWAY_API_VERSION is cached: $out/bin"
  exit 0
fi

log "building the Gateway API $GATEWAY_API_VERSION conformance suite and echo-basic (key $key)"
start=$SECONDS
tmp=$(mktemp -d "$WEIR_CACHE_DIR/conformance/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

go test -c -o "$tmp/bin/conformance.test" sigs.k8s.io/gateway-api/conformance
go build -ldflags "-s -w" -o "$tmp/bin/echo-basic" sigs.k8s.io/gateway-api-conformance-images/echo-basic

rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
ln -sfn "$key" "$WEIR_CACHE_DIR/conformance/current"
find "$WEIR_CACHE_DIR/conformance" -mindepth 1 -maxdepth 1 -type d \
  -regextype posix-extended -regex '.*/[0-9a-f]{16}' ! -name "$key" -exec rm -rf {} +
log "built in $((SECONDS - start))s: $out/bin"
