#!/usr/bin/env bash
# Refreshes the two locks with pip-tools, so the code tested is the code shipped:
#   requirements.lock      what the image installs (the runtime and the ccxt extra);
#   requirements-dev.lock  what `make venv` (developers and CI) installs: the test and ccxt
#                          extras, constrained to the image's pins, so every package the image
#                          ships is tested at the version it ships.
# Both carry hashes. Existing pins are kept unless UPGRADE=1 (then the newest versions that
# pyproject.toml allows are taken). tests/unit/test_locks.py fails when pyproject.toml and the
# locks disagree.
#
# Usage: hack/lock.sh        (or: make lock; UPGRADE=1 make lock)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PIP_TOOLS_VERSION="7.7.0"
tools="${CLEANSLATE_CACHE_DIR:-$HOME/.cache/cleanslate}/pip-tools-$PIP_TOOLS_VERSION"
if [[ ! -x "$tools/bin/pip-compile" ]]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet "pip-tools==$PIP_TOOLS_VERSION"
fi

common=(--quiet --all-build-deps --allow-unsafe --generate-hashes --no-emit-find-links
        --no-emit-index-url --strip-extras)
export CUSTOM_COMPILE_COMMAND="make lock"
[[ "${UPGRADE:-}" == 1 ]] && common+=(--upgrade)

"$tools/bin/pip-compile" "${common[@]}" --extra=ccxt --output-file=requirements.lock pyproject.toml

"$tools/bin/pip-compile" "${common[@]}" --extra=ccxt --extra=test -c requirements.lock \
  --output-file=requirements-dev.lock pyproject.toml
