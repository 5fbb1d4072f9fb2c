#!/usr/bin/env bash
# Builds one Go command into a minimal image (the static binary alone, from scratch) and
# writes it as an OCI archive tagged <image ref>; prints the archive's path.
#
#   hack/build-go-image.sh <image ref> <package>@<version> [--replace <module>=<module>@<version>]...
#   hack/build-go-image.sh <image ref> ./<local module dir>
#
# A remote package is built inside a scratch module that requires it (plus any replaces its
# own go.mod relies on), so any `go install`-able command, and those that need a replace,
# build the same way. The entrypoint is /<last element of the package path>. Cached under
# $WEIR_CACHE_DIR/images by a key over the arguments, this script and `go version`.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
[[ $# -ge 2 ]] || usage
ref=$1 source_spec=$2
shift 2
replaces=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --replace) [[ $# -ge 2 && $2 == *=*@* ]] || usage; replaces+=("$2"); shift 2 ;;
    *) usage ;;
  esac
done

require_go
export CGO_ENABLED=0

if [[ $source_spec == ./* ]]; then
  local_dir=$WEIR_ROOT/${source_spec#./}
  [[ -f $local_dir/go.mod ]] || { log "error: $local_dir has no go.mod"; exit 1; }
  package=.
  binary=$(basename "$local_dir")
  source_hash=$(cd "$local_dir" && find . -type f | LC_ALL=C sort | xargs sha256sum | sha256sum)
elif [[ $source_spec == *@* ]]; then
  package=${source_spec%@*}
  binary=$(basename "$package")
  source_hash=$source_spec
else
  usage
fi

key=$(
  {
    echo "$ref $source_hash ${replaces[*]}"
    sha256sum "${BASH_SOURCE[0]}"
    go version
  } | sha256sum | cut -c1-16
)
archive=$(image_archive "$ref" "$key")
if [[ -f $archive ]]; then
  log "$ref is cached"
  echo "$archive"
  exit 0
fi

log "building $ref from $source_spec"
start=$SECONDS
work=$(mktemp -d)
container=
cleanup() {
  [[ -z $container ]] || buildah_cached rm "$container" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
mkdir -p "$work/rootfs"
if [[ -n ${local_dir:-} ]]; then
  (cd "$local_dir" && go build -trimpath -ldflags '-s -w' -o "$work/rootfs/$binary" .)
else
  (
    cd "$work"
    go mod init weir.local/image-build >/dev/null 2>&1
    for replace in "${replaces[@]}"; do go mod edit -replace "$replace"; done
    go get "$source_spec" >/dev/null 2>"$work/get.log" || { cat "$work/get.log" >&2; exit 1; }
    go build -trimpath -ldflags '-s -w' -o "rootfs/$binary" "$package"
  )
fi

container=$(buildah_cached from --quiet scratch)
buildah_cached copy --quiet "$container" "$work/rootfs/$binary" "/$binary" >/dev/null
buildah_cached config --entrypoint "[\"/$binary\"]" --cmd '' \
  --label "org.opencontainers.image.source=$source_spec" "$container"
commit_archive "$container" "$ref" "$archive"
container=
log "built $ref in $((SECONDS - start))s"
echo "$archive"
