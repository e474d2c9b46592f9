# Entry points for people and CI; each target is one command you can also run by hand.
# A fresh machine needs only python3 (3.11+), go and make: every target installs what it uses.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: venv lock tools demo once once-documents cluster lint test test-random chaos crds chart bench venues image image-check e2e e2e-tools release

# The virtualenv, reinstalled whenever pyproject.toml or the lock changes. It installs
# requirements-dev.lock with its hashes: the test and ccxt extras at exactly the versions
# the image's requirements.lock ships (one environment for tests and the image). The
# project itself goes in without dependencies, so nothing outside the lock is resolved.
$(VENV)/.installed: pyproject.toml requirements-dev.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	$(BIN)/pip check
	touch $@

venv: $(VENV)/.installed

# Refresh requirements.lock (the image) and requirements-dev.lock (tests) from pyproject.toml,
# keeping existing pins; `UPGRADE=1 make lock` takes the newest versions allowed.
lock:
	bash hack/lock.sh

# Build (or reuse from ~/.cache/cleanslate/tools) kube-apiserver, kubectl, etcd, helm, promtool.
tools:
	bash hack/build-tools.sh

# The operator image from the Dockerfile, daemonless (buildah, vfs, chroot) on a local Debian
# base: ~/.cache/cleanslate/images/cleanslate-image.tar, localhost/cleanslate:<version>.
# Installs buildah and debootstrap from Debian's packages when missing (docs/install.md).
image: venv
	bash hack/build-image.sh

# A release built into dist/, published nowhere (no registry is reachable here): the image
# archive, the chart package, the reproducible kubectl plugin archives, the krew manifest with
# their sha256, SHA256SUMS (hack/release.py; docs/install.md, "Releasing"). RELEASE_IMAGE=0
# leaves the image out.
release: venv
	$(BIN)/python hack/release.py

# The built image checked by running it with runc: uid 10001, read-only root filesystem,
# `cleanslate --version`, `import ccxt`, its size.
image-check: image
	CLEANSLATE_IMAGE_TAR=$${CLEANSLATE_CACHE_DIR:-$$HOME/.cache/cleanslate}/images/cleanslate-image.tar \
	  $(BIN)/pytest -m image tests/image $(PYTEST_ARGS)

# The main job: a local control plane, the operator, two tenants' paper accounts going
# from dirty to CLEAN, their events; then everything stops.
demo: venv tools
	$(BIN)/python -m cleanslate.demo

# The one-shot run of the four phases on an account that reaches CLEAN (no cluster needed).
once: venv
	$(BIN)/cleanslate once -f examples/first-account.yaml -f examples/policy.yaml --until-clean

# The documents' account: it keeps a delisted AUT and a rejected BONK, so this exits 1
# naming them (the expected result: cleanslate never sells blind or forever).
once-documents: venv
	$(BIN)/cleanslate once -f examples/account.yaml -f examples/policy.yaml --until-clean

# A local control plane for a person: prints the PATH (venv and tools), `export KUBECONFIG=...`
# and the commands that start the operator against it; Ctrl-C stops it.
cluster: venv tools
	$(BIN)/python -m cleanslate.localcluster

# Regenerate crds/ and docs/configuration.md from the models (tests fail when they drift).
crds: venv
	$(BIN)/python -m cleanslate.api.crds crds
	cp crds/*.yaml helm/cleanslate/crds/
	$(BIN)/python -m cleanslate.api.reference docs/configuration.md

# Regenerate the chart's values.schema.json and README.md from values.yaml (tests fail
# when they drift).
chart: venv
	$(BIN)/python hack/chart_values.py

# Regenerate docs/venues.md: the Live gate over ccxt's classes (with the ccxt that
# requirements.lock pins; a test compares the page when that ccxt is installed).
venues: venv
	$(BIN)/python -m cleanslate.exchange.ccxt.survey docs/venues.md

lint: venv
	$(BIN)/ruff check operator tests benchmarks
	$(BIN)/ruff format --check operator tests benchmarks
	$(BIN)/mypy

# The whole suite; cluster tests start their own control plane unless
# CLEANSLATE_EXISTING_CLUSTER=1 (then $$KUBECONFIG is used, e.g. kind, and
# nothing needs building).
test: venv lint $(if $(CLEANSLATE_EXISTING_CLUSTER),,tools)
	$(BIN)/pytest -m "not e2e and not image" $(PYTEST_ARGS)

# The node of `make e2e`: kubelet, kube-scheduler, kube-controller-manager, the CNI loopback
# plugin and the sandbox's pause binary (cached like `tools`), containerd and runc (Debian).
e2e-tools: tools
	bash hack/build-tools.sh kubelet kube-scheduler kube-controller-manager cni-loopback pause
	bash hack/node-packages.sh

# The operator the way users run it (tests/e2e, docs/install.md "End-to-end"): the image in
# a pod on a real node (containerd + kubelet on 127.0.0.1, host network only), the chart
# installed as docs/install.md says, probes, demo accounts, RBAC, metrics auth, upgrade.
# CLEANSLATE_EXISTING_CLUSTER=1: against $$KUBECONFIG with CLEANSLATE_E2E_IMAGE, nothing built.
e2e: venv $(if $(CLEANSLATE_EXISTING_CLUSTER),,e2e-tools image)
	CLEANSLATE_IMAGE_TAR=$${CLEANSLATE_IMAGE_TAR:-$${CLEANSLATE_CACHE_DIR:-$$HOME/.cache/cleanslate}/images/cleanslate-image.tar} \
		$(BIN)/pytest -m "e2e or image" $(if $(CLEANSLATE_EXISTING_CLUSTER),,tests/image) tests/e2e \
		$(PYTEST_ARGS)

# The whole suite in a shuffled order (a new seed each run, printed in the header; repeat one
# with PYTEST_ARGS=--random-order-seed=N): finds tests that pass only after others.
test-random: venv lint $(if $(CLEANSLATE_EXISTING_CLUSTER),,tools)
	$(BIN)/pytest -m "not e2e and not image" \
		--random-order-seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ') $(PYTEST_ARGS)

# Only the fault-injection tests (they are part of `make test` too): a few minutes.
chaos: venv tools
	$(BIN)/pytest -m chaos $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/twap_vs_market.py
