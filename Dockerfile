# syntax=docker/dockerfile:1
# cleanslate operator image: python:3.11-slim, a virtualenv built in a separate stage,
# non-root uid 10001, nothing writable but the volumes the Deployment mounts
# (--state-dir and /tmp), so it runs with readOnlyRootFilesystem: true.

FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/cleanslate
WORKDIR /src
# Dependencies first, so a code change does not re-download them.
COPY pyproject.toml ./
COPY operator ./operator
RUN /opt/cleanslate/bin/pip install . \
    && /opt/cleanslate/bin/python -m compileall -q /opt/cleanslate

FROM python:3.11-slim
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
