//go:build tools

// Package tools pins the upstream main packages this module builds, so that
// `go mod tidy` keeps their dependencies in go.sum. hack/build-tools.sh builds
// them by import path, which yields exactly the upstream binaries.
package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
	_ "k8s.io/kubernetes/cmd/kubectl"
	_ "k8s.io/kubernetes/cmd/kubelet"
)
