//go:build tools

// Package tools pins the commands built by ../build.sh so that `go mod tidy`
// keeps their dependencies in go.mod/go.sum. It is never compiled itself;
// build.sh runs `go build k8s.io/kubernetes/cmd/kube-apiserver` in this module.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
)
