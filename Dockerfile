# syntax=docker/dockerfile:1
# cleanslate operator image: python:3.11-slim by default (the BASE argument below), a
# virtualenv built in a separate stage, non-root uid 10001, nothing writable but the volumes
# the Deployment mounts (--state-dir and /tmp), so it runs with readOnlyRootFilesystem: true.
#
# Supply chain: the base is pinned by digest (a tag can be re-pointed; a digest cannot), and
# every Python package, build tools included, comes from requirements.lock with its sha256
# (pip --require-hashes refuses anything else). The lock includes the optional ccxt extra
# (any exchange ccxt reaches, docs/exchanges.md), so the image has it. After a dependency
# change, `make lock` regenerates it and requirements-dev.lock (the tests' environment,
# constrained to these pins) together.
#
# The digest is the python:3.11-slim-bookworm manifest list that a docker-library maintainer
# pulled in https://github.com/docker-library/python/issues/923 (2024-04-25:
# "Digest: sha256:6d2502238109c929569ae99355e28890c438cb11bc88ef02cd189c173b3db07c").
# It was not pulled from here (no registry access when it was written). Refresh it with
#   docker buildx imagetools inspect python:3.11-slim-bookworm
# (or let Renovate/Dependabot bump it) to pick up Debian security updates.
# BASE is a build argument so that one Dockerfile serves both: users build on the official
# image pinned above (the default, nothing to pass); the image tests here (make image,
# hack/build-image.sh), which reach no container registry, pass a bookworm root filesystem made
# with debootstrap from Debian's packages and committed as a local image. Both are Debian 12
# with Python 3.11, the same minor, so the same locked wheels install on either. A base must
# have `python` (3.11, with venv), groupadd and useradd.
ARG BASE=python:3.11-slim-bookworm@sha256:6d2502238109c929569ae99355e28890c438cb11bc88ef02cd189c173b3db07c
FROM ${BASE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/cleanslate
WORKDIR /src
# Dependencies first, from the lock file with hashes, so a code change does not re-download
# them; then the operator itself, with no dependency resolution and no build isolation (its
# build tools are the locked ones just installed).
#
# WHEELS (empty by default: pip downloads from the index) names a directory inside the build
# that already holds every locked file; pip then installs offline from it (--no-index), with
# the same hash check. hack/build-image.sh downloads them on the host (where TLS to the index
# can be verified; a root filesystem made by debootstrap has no CA bundle) and mounts them.
ARG WHEELS=
COPY requirements.lock ./
RUN /opt/cleanslate/bin/pip install --require-hashes --no-deps \
        ${WHEELS:+--no-index --find-links "$WHEELS"} -r requirements.lock
COPY pyproject.toml README.md ./
COPY operator ./operator
# Byte-compile everything once here, since the root filesystem is read-only at run time (and
# PYTHONDONTWRITEBYTECODE is set): without .pyc files every start would compile ccxt again.
# The one exclusion: ccxt vendors libraries under static_dependencies/, and in the pinned
# ccxt 4.5.64 seven modules of static_dependencies/bip/conf/bipNN/ (bipNN_conf.py and
# bipNN_conf_getter.py) were broken by ccxt's vendoring script (`from  import BipCoinConf`:
# the module name is missing), a SyntaxError on any Python. They are unreachable: bip44's
# __init__ has its two imports commented out, and the bip49/84/86 packages import from
# `bip_utils`, which ccxt does not ship, so `import ccxt` never loads them (the image check
# runs it). The pattern is only those file names and not all of static_dependencies, so the
# vendored modules ccxt does import (ecdsa, keccak, starknet, ...) are still compiled, and a
# file that does not compile anywhere else, ours included, still fails the build: after a
# ccxt bump, look at any new failing file before widening the pattern.
RUN /opt/cleanslate/bin/pip install --no-deps --no-build-isolation . \
    && /opt/cleanslate/bin/python -m compileall -q \
       -x '/ccxt/static_dependencies/bip/conf/bip[0-9]+/bip[0-9]+_conf(_getter)?[.]py$' \
       /opt/cleanslate

FROM ${BASE}
LABEL org.opencontainers.image.title="cleanslate" \
      org.opencontainers.image.description="Kubernetes operator that keeps crypto trading accounts clean" \
      org.opencontainers.image.licenses="Apache-2.0"
ENV PATH=/opt/cleanslate/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN groupadd --system --gid 10001 cleanslate \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/cleanslate \
       --no-create-home --shell /usr/sbin/nologin cleanslate \
    && install -d -o 10001 -g 10001 -m 0750 /var/lib/cleanslate
COPY --from=build /opt/cleanslate /opt/cleanslate
USER 10001:10001
WORKDIR /var/lib/cleanslate
# kopf's liveness endpoint and the Prometheus metrics.
EXPOSE 8080 9090
VOLUME ["/var/lib/cleanslate"]
ENTRYPOINT ["cleanslate", "operator"]
CMD ["--all-namespaces", "--state-dir", "/var/lib/cleanslate"]
