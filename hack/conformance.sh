#!/usr/bin/env bash
# `npm run conformance`: the upstream Gateway API conformance suite (hack/build-conformance.sh)
# against Weir in the local cluster (hack/cluster.sh up, which installs Weir the README's way).
# The suite reads the features to test from the GatewayClass's status.supportedFeatures, so
# the report claims exactly what Weir advertises. Writes the report to
# conformance/reports/<gateway-api version>/weir-report.yaml and the suite's log next to it.
#
#   bash hack/conformance.sh [extra suite flags, e.g. -run-test HTTPRouteSimpleSameNamespace]
#
# WEIR_CONFORMANCE_CORE_ONLY=1 runs only the profiles' core tests (the core features instead of
# the GatewayClass's list) and writes its report under .cache/, never over the committed one.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

GATEWAY_CLASS=${WEIR_CONFORMANCE_GATEWAY_CLASS:-weir-conformance}
PROFILES=GATEWAY-HTTP,GATEWAY-GRPC,GATEWAY-TLS
# The report's implementation fields (the suite refuses to write a report without them).
PROJECT_URL=${WEIR_CONFORMANCE_URL:-https://weir.dev}
CONTACT=${WEIR_CONFORMANCE_CONTACT:-$PROJECT_URL}
kubeconfig=/var/lib/weir-cluster/admin.kubeconfig
# Each Gateway gets its own dataplane Deployment, so every Gateway a test creates waits for a
# pod to start, and deleting a test namespace waits for those pods' graceful shutdown (10 s
# unready delay, then draining). On the 2-core node the suite's parallel tests took 30-60 s for
# either, past the suite's defaults for these three waits (30 s, 60 s, 60 s); nothing else is
# relaxed. Override with WEIR_CONFORMANCE_TIMEOUTS (the suite's -timeout-config-overrides).
TIMEOUTS=${WEIR_CONFORMANCE_TIMEOUTS:-DeleteTimeout:120;GatewayListenersMustHaveConditions:180;ListenerSetListenersMustHaveConditions:180}

bash "$WEIR_ROOT/hack/build-conformance.sh"
suite=$WEIR_CACHE_DIR/conformance/current/bin/conformance.test
bash "$WEIR_ROOT/hack/cluster.sh" up
kubectl() { "$WEIR_CACHE_DIR/controlplane/current/bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }

kubectl apply -f - <<YAML
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: $GATEWAY_CLASS
spec:
  controllerName: weir.dev/gateway-controller
YAML
kubectl wait --for=condition=Accepted "gatewayclass/$GATEWAY_CLASS" --timeout=120s >/dev/null

version=$(node -p 'require("./package.json").version')
reports=$WEIR_ROOT/conformance/reports/$GATEWAY_API_VERSION
features=()
if [[ ${WEIR_CONFORMANCE_CORE_ONLY:-0} == 1 ]]; then
  reports=$WEIR_CACHE_DIR/conformance/core-report
  features=(-supported-features Gateway,HTTPRoute,ReferenceGrant,GRPCRoute,TLSRoute)
  log "core tests only (WEIR_CONFORMANCE_CORE_ONLY=1); the report goes to $reports"
fi
mkdir -p "$reports"
log "running the Gateway API $GATEWAY_API_VERSION conformance suite ($PROFILES) against GatewayClass $GATEWAY_CLASS"
log "features: $(kubectl get gatewayclass "$GATEWAY_CLASS" -o jsonpath='{.status.supportedFeatures[*].name}')"
start=$SECONDS
status=0
# The suite's flags are Go test flags; -test.timeout covers the whole run.
KUBECONFIG=$kubeconfig "$suite" -test.run '^TestConformance$' -test.v -test.timeout 80m \
  -gateway-class "$GATEWAY_CLASS" \
  -conformance-profiles "$PROFILES" \
  -organization weir -project weir -url "$PROJECT_URL" -version "v$version" -contact "$CONTACT" \
  -mode default \
  -timeout-config-overrides "$TIMEOUTS" \
  -report-output "$reports/weir-report.yaml" \
  "${features[@]}" "$@" 2>&1 | tee "$reports/suite.log" || status=$?
log "the suite took $((SECONDS - start))s and exited $status; report: $reports/weir-report.yaml"
exit "$status"
