# Entry points for people and CI; each target is one command you can also run by hand.
# A fresh machine needs only python3 (3.11+), go and make: every target installs what it uses.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PYTEST_ARGS ?=

.PHONY: venv tools demo once once-documents cluster lint test chaos crds chart bench

# The virtualenv, reinstalled whenever pyproject.toml changes.
$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

venv: $(VENV)/.installed

# Build (or reuse from ~/.cache/cleanslate/tools) kube-apiserver, kubectl, etcd, helm, promtool.
tools:
	bash hack/build-tools.sh

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

lint: venv
	$(BIN)/ruff check operator tests benchmarks
	$(BIN)/ruff format --check operator tests benchmarks
	$(BIN)/mypy

# The whole suite; cluster tests start their own control plane unless
# CLEANSLATE_EXISTING_CLUSTER=1 (then $$KUBECONFIG is used, e.g. kind, and
# nothing needs building).
test: venv lint $(if $(CLEANSLATE_EXISTING_CLUSTER),,tools)
	$(BIN)/pytest $(PYTEST_ARGS)

# Only the fault-injection tests (they are part of `make test` too): a few minutes.
chaos: venv tools
	$(BIN)/pytest -m chaos $(PYTEST_ARGS)

bench: venv
	$(BIN)/python benchmarks/twap_vs_market.py
