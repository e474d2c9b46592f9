# Entry points for people and CI; each target is one command you can also run by hand.
# A fresh machine needs only python3 (3.11+), go and make: every target installs what it uses.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: venv lock tools demo once cluster lint test test-random chaos crds chart bench image image-check

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

# The built image checked by running it with runc: uid 10001, read-only root filesystem,
# `cleanslate --version`, `import ccxt`, its size.
image-check: image
	CLEANSLATE_IMAGE_TAR=$${CLEANSLATE_CACHE_DIR:-$$HOME/.cache/cleanslate}/images/cleanslate-image.tar \
	  $(BIN)/pytest -m image tests/image $(PYTEST_ARGS)

# The main job: a local control plane, the operator, two tenants' paper accounts going
# from dirty to CLEAN, their events; then everything stops.
demo: venv tools
	$(BIN)/python -m cleanslate.demo

# The one-shot run of the four phases on the documents' account (no cluster needed).
once: venv
	$(BIN)/cleanslate once -f examples/account.yaml -f examples/policy.yaml --until-clean

# A local control plane for a person: prints `export KUBECONFIG=...`, Ctrl-C stops it.
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

lint: venv
	$(BIN)/ruff check operator tests benchmarks
	$(BIN)/ruff format --check operator tests benchmarks
	$(BIN)/mypy

# The whole suite; cluster tests start their own control plane unless
# CLEANSLATE_EXISTING_CLUSTER=1 (then $$KUBECONFIG is used, e.g. kind, and
# nothing needs building).
test: venv lint $(if $(CLEANSLATE_EXISTING_CLUSTER),,tools)
	$(BIN)/pytest $(PYTEST_ARGS)

# The whole suite in a shuffled order (a new seed each run, printed in the header; repeat one
# with PYTEST_ARGS=--random-order-seed=N): finds tests that pass only after others.
test-random: venv lint $(if $(CLEANSLATE_EXISTING_CLUSTER),,tools)
	$(BIN)/pytest --random-order-seed=$$(od -An -N4 -tu4 /dev/urandom | tr -d ' ') $(PYTEST_ARGS)

# Only the fault-injection tests (they are part of `make test` too): a few minutes.
chaos: venv tools
	$(BIN)/pytest -m chaos $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/twap_vs_market.py
