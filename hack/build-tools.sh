#!/usr/bin/env bash
# Builds the real control-plane binaries the tests and the demo run against
# (kube-apiserver, kubectl, etcd, helm) and promtool (which checks and unit-tests the
# alert rules) from Go modules, because this machine and CI have no Docker and no
# container registry but can reach the Go module proxy.
#
# Everything lands in a cache outside the checkout, one directory per tool and
# version, so a second run on the same machine reuses it in a second or two:
#
#   ${CLEANSLATE_TOOLS_DIR:-$HOME/.cache/cleanslate/tools}/
#     kube-apiserver-v1.34.4/kube-apiserver   kubectl-v1.34.4/kubectl
#     etcd-v3.6.16/etcd                       helm-v3.22.0/helm
#     promtool-v0.316.0/promtool  (module v0.316.0 is Prometheus 3.16.0)
#     bin/   stable symlinks to the versions above (what find_tool() uses)
#     go/    GOPATH, GOMODCACHE and GOCACHE, kept so rebuilds stay incremental
#
# Usage: hack/build-tools.sh [TOOL...]   (default: etcd kube-apiserver kubectl helm promtool)
#
# The node tools of `make e2e` are built only when named:
#   hack/build-tools.sh kubelet kube-scheduler kube-controller-manager cni-loopback pause
# kubelet, kube-scheduler and kube-controller-manager come from the same wrapper module as
# kube-apiserver (same version); cni-loopback is the CNI `loopback` plugin
# (github.com/containernetworking/plugins), the only network plugin the e2e node uses,
# since its pods run on the host network. It lands as bin/cni/loopback, the directory
# a kubelet's container runtime is given as its CNI bin dir. pause is the sandbox
# binary (hack/tools/pause) the node's locally made sandbox image runs.
#
# Environment: CLEANSLATE_TOOLS_DIR (cache root), GO (go binary to use),
# CLEANSLATE_GOTOOLCHAIN (default "auto": lets go fetch the toolchain a module
# asks for), CLEANSLATE_BUILD_JOBS (go build -p, default 2 for the 2-core CI box).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tools_src="$here/tools"
cache="${CLEANSLATE_TOOLS_DIR:-$HOME/.cache/cleanslate/tools}"
jobs="${CLEANSLATE_BUILD_JOBS:-2}"

# The Kubernetes and etcd versions live in the wrapper go.mod files (one source
# of truth, go.sum pins them); helm and promtool are `go install`ed (their go.mod has
# no replace or exclude directive) so their versions are here. Prometheus publishes
# its Go module as v0.3XY.Z for release 3.XY.Z.
module_version() { awk -v m="$2" '$1 == "require" && $2 == m { print $3 }' "$1"; }
KUBE_VERSION="$(module_version "$tools_src/kubernetes/go.mod" k8s.io/kubernetes)"
ETCD_VERSION="$(module_version "$tools_src/etcd/go.mod" go.etcd.io/etcd/server/v3)"
HELM_VERSION="v3.22.0"
PROMETHEUS_VERSION="v0.316.0"
CNI_PLUGINS_VERSION="v1.10.0"

log() { printf '[build-tools] %s\n' "$*" >&2; }

find_go() {
  local go="${GO:-}"
  [[ -n "$go" ]] || go="$(command -v go || true)"
  [[ -n "$go" ]] || go=/usr/local/go/bin/go
  if [[ ! -x "$go" ]]; then
    log "no Go toolchain found (set GO=/path/to/go); Go >= 1.24 is needed"
    exit 1
  fi
  printf '%s' "$go"
}

setup_go_env() {
  GO_BIN="$(find_go)"
  export GOPATH="$cache/go" GOMODCACHE="$cache/go/mod" GOCACHE="$cache/go/build-cache"
  export GOTOOLCHAIN="${CLEANSLATE_GOTOOLCHAIN:-auto}"
  export CGO_ENABLED=0 GOFLAGS="-buildvcs=false -mod=readonly"
  export GOPROXY="${GOPROXY:-https://proxy.golang.org,direct}"
  mkdir -p "$GOMODCACHE" "$GOCACHE"
}

# kube_ldflags stamps the version the way upstream's hack/lib/version.sh does,
# so `kubectl version` and the API server's /version report the real release
# instead of v0.0.0-master.
kube_ldflags() {
  local v="$KUBE_VERSION" major minor flags="-s -w" pkg
  major="${v#v}"; major="${major%%.*}"
  minor="${v#v*.}"; minor="${minor%%.*}"
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    flags+=" -X $pkg.gitVersion=$v -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
    flags+=" -X $pkg.gitTreeState=clean -X $pkg.buildDate=$BUILD_DATE"
  done
  printf '%s' "$flags"
}

etcd_ldflags() { printf '%s' "-s -w -X go.etcd.io/etcd/api/v3/version.GitSHA=$ETCD_VERSION"; }

helm_ldflags() {
  local k8s_minor="${KUBE_VERSION#v*.}"
  printf '%s' "-s -w -X helm.sh/helm/v3/internal/version.version=$HELM_VERSION \
-X helm.sh/helm/v3/internal/version.gitTreeState=clean \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 \
-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=${k8s_minor%%.*}"
}

# promtool_ldflags stamps the release the way Prometheus' own build (promu) does, so
# `promtool --version` names it.
promtool_ldflags() {
  local minor="${PROMETHEUS_VERSION#v0.}"
  local release="3.${minor:1:2}.${PROMETHEUS_VERSION##*.}"
  printf '%s' "-s -w -X github.com/prometheus/common/version.Version=$release \
-X github.com/prometheus/common/version.Branch=HEAD \
-X github.com/prometheus/common/version.BuildDate=$BUILD_DATE"
}

# go_build <module dir> <output> <ldflags> <package>: builds into a temp name and
# renames, so an interrupted build is never mistaken for a cached binary.
go_build() {
  local dir="$1" out="$2" ldflags="$3" pkg="$4"
  (cd "$dir" && nice -n 10 "$GO_BIN" build -p "$jobs" -trimpath \
      -ldflags "$ldflags" -o "$out.partial" "$pkg")
  mv -f "$out.partial" "$out"
}

helm_install() {
  local out="$1" gobin
  gobin="$(dirname "$out")/.gobin"
  mkdir -p "$gobin"
  (cd "$cache" && GOBIN="$gobin" GOFLAGS="-buildvcs=false" nice -n 10 "$GO_BIN" install \
      -p "$jobs" -trimpath -ldflags "$(helm_ldflags)" "helm.sh/helm/v3/cmd/helm@$HELM_VERSION")
  mv -f "$gobin/helm" "$out"
  rmdir "$gobin"
}

# promtool only checks rule files and runs their unit tests: the remove_all_sd tag
# leaves out Prometheus' service-discovery plugins (cloud SDKs), a third of the build.
promtool_install() {
  local out="$1" gobin
  gobin="$(dirname "$out")/.gobin"
  mkdir -p "$gobin"
  (cd "$cache" && GOBIN="$gobin" GOFLAGS="-buildvcs=false" nice -n 10 "$GO_BIN" install \
      -p "$jobs" -trimpath -tags remove_all_sd -ldflags "$(promtool_ldflags)" \
      "github.com/prometheus/prometheus/cmd/promtool@$PROMETHEUS_VERSION")
  mv -f "$gobin/promtool" "$out"
  rmdir "$gobin"
}

# ensure <name> <version> <build command...>: reuses <cache>/<name>-<version>/<name>
# when present, otherwise builds it, and points bin/<name> at it either way.
ensure() {
  local name="$1" version="$2"; shift 2
  local dir="$cache/$name-$version" out start
  out="$dir/$name"
  start=$(date +%s)
  if [[ -x "$out" ]]; then
    log "reusing $name $version ($out)"
  else
    log "building $name $version ..."
    mkdir -p "$dir"
    "$@" "$out"
    log "built $name $version in $(( $(date +%s) - start ))s"
  fi
  ln -sfn "$out" "$cache/bin/$name"
}

# cni_loopback_install builds the CNI loopback plugin (its go.mod has no replace
# directive, so `go install` at the pinned tag is the upstream binary).
cni_loopback_install() {
  local out="$1" gobin
  gobin="$(dirname "$out")/.gobin"
  mkdir -p "$gobin"
  (cd "$cache" && GOBIN="$gobin" GOFLAGS="-buildvcs=false" nice -n 10 "$GO_BIN" install \
      -p "$jobs" -trimpath -ldflags "-s -w" \
      "github.com/containernetworking/plugins/plugins/main/loopback@$CNI_PLUGINS_VERSION")
  mv -f "$gobin/loopback" "$out"
  rmdir "$gobin"
}

build_kube_apiserver() { go_build "$tools_src/kubernetes" "$1" "$(kube_ldflags)" k8s.io/kubernetes/cmd/kube-apiserver; }
build_kubectl() { go_build "$tools_src/kubernetes" "$1" "$(kube_ldflags)" k8s.io/kubernetes/cmd/kubectl; }
build_kubelet() { go_build "$tools_src/kubernetes" "$1" "$(kube_ldflags)" k8s.io/kubernetes/cmd/kubelet; }
build_kube_scheduler() { go_build "$tools_src/kubernetes" "$1" "$(kube_ldflags)" k8s.io/kubernetes/cmd/kube-scheduler; }
build_kube_controller_manager() {
  go_build "$tools_src/kubernetes" "$1" "$(kube_ldflags)" k8s.io/kubernetes/cmd/kube-controller-manager
}
build_pause() { go_build "$tools_src/pause" "$1" "-s -w" .; }
build_etcd() { go_build "$tools_src/etcd" "$1" "$(etcd_ldflags)" .; }

main() {
  local total_start
  total_start=$(date +%s)
  BUILD_DATE="$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  mkdir -p "$cache/bin"
  setup_go_env
  log "cache: $cache; go: $GO_BIN ($("$GO_BIN" env GOVERSION)); jobs: $jobs"
  local tool tools=("$@")
  (( ${#tools[@]} )) || tools=(etcd kube-apiserver kubectl helm promtool)
  for tool in "${tools[@]}"; do
    case "$tool" in
      etcd) ensure etcd "$ETCD_VERSION" build_etcd ;;
      kube-apiserver) ensure kube-apiserver "$KUBE_VERSION" build_kube_apiserver ;;
      kubectl) ensure kubectl "$KUBE_VERSION" build_kubectl ;;
      helm) ensure helm "$HELM_VERSION" helm_install ;;
      promtool) ensure promtool "$PROMETHEUS_VERSION" promtool_install ;;
      kubelet) ensure kubelet "$KUBE_VERSION" build_kubelet ;;
      kube-scheduler) ensure kube-scheduler "$KUBE_VERSION" build_kube_scheduler ;;
      kube-controller-manager)
        ensure kube-controller-manager "$KUBE_VERSION" build_kube_controller_manager ;;
      pause) ensure pause "$(sha256sum < "$tools_src/pause/main.go" | cut -c1-12)" build_pause ;;
      cni-loopback)
        ensure loopback "$CNI_PLUGINS_VERSION" cni_loopback_install
        mkdir -p "$cache/bin/cni"
        ln -sfn "$cache/loopback-$CNI_PLUGINS_VERSION/loopback" "$cache/bin/cni/loopback" ;;
      *)
        log "unknown tool '$tool' (known: etcd kube-apiserver kubectl helm promtool" \
          "kubelet kube-scheduler kube-controller-manager cni-loopback pause)"
        exit 2 ;;
    esac
  done
  log "tools ready in $cache/bin after $(( $(date +%s) - total_start ))s total"
}

main "$@"
