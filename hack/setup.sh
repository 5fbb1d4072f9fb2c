#!/usr/bin/env bash
# The one entry point for developer/CI tooling: builds the pinned Kubernetes control plane
# and fetches the pinned Gateway API CRDs into the git-ignored cache. Idempotent; a warm
# run takes about a second.
set -euo pipefail
here=$(dirname "${BASH_SOURCE[0]}")
bash "$here/fetch-crds.sh"
bash "$here/build-controlplane.sh"
