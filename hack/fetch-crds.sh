#!/usr/bin/env bash
# Fetches the Gateway API CRDs (standard and experimental channels) from the pinned Go
# module into $WEIR_CACHE_DIR/gateway-api/<version>/<channel>/: exactly the files the
# release's kustomizations list (its install bundle), so applying every *.yaml in a channel
# directory installs that channel.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

dest=$WEIR_CACHE_DIR/gateway-api/$GATEWAY_API_VERSION
if [[ -f $dest/.complete ]]; then
  log "Gateway API $GATEWAY_API_VERSION CRDs are cached: $dest"
  exit 0
fi
require_go
export GOTOOLCHAIN=$GATEWAY_API_GOTOOLCHAIN

# Outside any module, so `go mod download` only fills the module cache.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
module_dir=$(cd "$work" && go mod download -json "sigs.k8s.io/gateway-api@$GATEWAY_API_VERSION" |
  node -e 'let s = ""; process.stdin.on("data", (c) => (s += c)).on("end", () => {
    const m = JSON.parse(s);
    if (m.Error || !m.Dir) { console.error(m.Error ?? "no Dir in go mod download output"); process.exit(1); }
    console.log(m.Dir);
  })')

# Prints the files a kustomization.yaml lists under resources, relative to its folder.
kustomize_resources() {
  sed -n 's/^ *- *\([A-Za-z0-9._/-]*\.yaml\) *$/\1/p' "$1"
}

crd_dir=$module_dir/config/crd
staged=$work/crds
mkdir -p "$staged/standard" "$staged/experimental"
# The standard channel's list is config/crd/kustomization.yaml (entries "standard/...").
for file in $(kustomize_resources "$crd_dir/kustomization.yaml"); do
  cp "$crd_dir/$file" "$staged/$file"
done
for file in $(kustomize_resources "$crd_dir/experimental/kustomization.yaml"); do
  cp "$crd_dir/experimental/$file" "$staged/experimental/$file"
done
for channel in standard experimental; do
  if ! compgen -G "$staged/$channel/*.yaml" >/dev/null; then
    log "error: no $channel CRDs found in $crd_dir (layout changed?)"
    exit 1
  fi
done
chmod -R u+w "$staged"
touch "$staged/.complete"

rm -rf "$dest"
mkdir -p "$(dirname "$dest")"
mv "$staged" "$dest"
log "fetched Gateway API $GATEWAY_API_VERSION CRDs: $dest"
