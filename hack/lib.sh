# Shared by the hack/ scripts: paths and the Go check. Source it, don't run it.
# shellcheck shell=bash

WEIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WEIR_CACHE_DIR=${WEIR_CACHE_DIR:-$WEIR_ROOT/.cache}
GATEWAY_API_VERSION=v1.7.0
# The Gateway API v1.7.0 modules (CRDs, conformance suite) declare `go 1.27.0`; only the
# scripts that fetch or build them switch to this toolchain (the go command downloads it from
# the module proxy), so the control plane's build cache stays keyed to the machine's Go.
GATEWAY_API_GOTOOLCHAIN=go1.27.3

log() { printf '[hack] %s\n' "$*" >&2; }

require_go() {
  if ! command -v go >/dev/null 2>&1; then
    cat >&2 <<'MSG'
[hack] error: Go is not installed (no `go` on PATH).
[hack] The Kubernetes control plane used by the tests (etcd, kube-apiserver,
[hack] kube-controller-manager) and the Gateway API CRDs come from pinned Go modules.
[hack] Install Go >= 1.24 (https://go.dev/dl/), put it on PATH, then run: bash hack/setup.sh
MSG
    exit 1
  fi
}
