//go:build tools

// Package tools pins the helm CLI built by ../build.sh so that `go mod tidy`
// keeps its dependencies in go.mod/go.sum. It is never compiled itself;
// build.sh runs `go build helm.sh/helm/v3/cmd/helm` in this module.
package tools

import (
	_ "helm.sh/helm/v3/cmd/helm"
)
