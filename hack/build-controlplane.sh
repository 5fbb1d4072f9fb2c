#!/usr/bin/env bash
# Builds etcd and every Kubernetes component the tests and the local cluster run (kube-apiserver,
# kube-controller-manager, kube-scheduler, kubelet, kube-proxy, kubectl) from the pinned modules in
# hack/controlplane into $WEIR_CACHE_DIR/controlplane/<key>/bin. The key hashes everything
# that determines the binaries, so a pin change rebuilds and a warm run is a no-op.
# Go's own caches (GOCACHE, GOMODCACHE) are left at their defaults on purpose: on a
# machine that builds often they make even a cache-key miss mostly a link step.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_go
# Static binaries: the node components run on the host, the images (if any) need no libc.
export CGO_ENABLED=0

self=$WEIR_ROOT/hack/build-controlplane.sh
src=$WEIR_ROOT/hack/controlplane
cd "$src"

# The Kubernetes version comes from go.mod so the pin lives in exactly one place.
kube_version=$(awk '$1 == "k8s.io/kubernetes" && $2 ~ /^v/ { print $2; exit }' go.mod)
if [[ ! $kube_version =~ ^v([0-9]+)\.([0-9]+)\.[0-9]+$ ]]; then
  log "error: cannot read the k8s.io/kubernetes version from $src/go.mod"
  exit 1
fi
kube_major=${BASH_REMATCH[1]}
kube_minor=${BASH_REMATCH[2]}

# The pinned inputs, one "sha256  path" line each; the test harness re-checks this list to
# refuse a control plane that is older than the pins.
inputs=$(sha256sum go.mod go.sum $(find . -name '*.go' -type f | LC_ALL=C sort))
key=$(
  {
    echo "$inputs"
    # The script by content, not path: every checkout of the same pins shares one build.
    sha256sum <"$self"
    go version
    go env CGO_ENABLED GOFLAGS GOAMD64 GOARM64
  } | sha256sum | cut -c1-16
)
out=$WEIR_CACHE_DIR/controlplane/$key
bins=(etcd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

# Points the harness at the build matching the current pins.
publish() {
  echo "$inputs" >"$out/inputs.sha256"
  ln -sfn "$key" "$WEIR_CACHE_DIR/controlplane/current"
  # Older builds are ~250 MB each and nothing points at them any more.
  find "$WEIR_CACHE_DIR/controlplane" -mindepth 1 -maxdepth 1 -type d \
    -regextype posix-extended -regex '.*/[0-9a-f]{16}' ! -name "$key" -exec rm -rf {} +
}

complete() {
  local b
  for b in "${bins[@]}"; do [[ -x $out/bin/$b ]] || return 1; done
}

if complete; then
  publish
  log "control plane $kube_version is cached: $out/bin"
  exit 0
fi

log "building ${bins[*]} $kube_version (key $key)"
log "a cold build needs about 30 CPU-minutes (15-20 min on 2 cores); later builds reuse Go's build cache"
start=$SECONDS

# Version stamps, as Kubernetes' own hack/lib/version.sh sets them; without them the
# apiserver reports v0.0.0-master and kubectl warns about version skew.
ldflags="-s -w"
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$kube_version"
  ldflags+=" -X $pkg.gitMajor=$kube_major"
  ldflags+=" -X $pkg.gitMinor=$kube_minor"
  ldflags+=" -X $pkg.gitTreeState=clean"
done

mkdir -p "$WEIR_CACHE_DIR/controlplane"
tmp=$(mktemp -d "$WEIR_CACHE_DIR/controlplane/.build.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

go build -ldflags "$ldflags" -o "$tmp/bin/" \
  ./cmd/etcd \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler \
  k8s.io/kubernetes/cmd/kubelet \
  k8s.io/kubernetes/cmd/kube-proxy \
  k8s.io/kubernetes/cmd/kubectl

# Publish atomically so an interrupted build never looks complete.
rm -rf "$out"
mv "$tmp" "$out"
trap - EXIT
publish
log "built in $((SECONDS - start))s: $out/bin"
