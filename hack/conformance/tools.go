//go:build tools

// Package tools pins the upstream Gateway API conformance suite and the echo-basic backend
// it deploys, so `go mod tidy` records them and hack/build-conformance.sh builds them.
package tools

import (
	_ "sigs.k8s.io/gateway-api-conformance-images/echo-basic"
	_ "sigs.k8s.io/gateway-api/conformance"
)
