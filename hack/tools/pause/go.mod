// The e2e node's sandbox ("pause") binary: no registry is reachable, so the sandbox image
// is made locally from this program (hack/build-tools.sh pause; see
// operator/cleanslate/localcluster/node.py).
module cleanslate.dev/hack/tools/pause

go 1.24.0
