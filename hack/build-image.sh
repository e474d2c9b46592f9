#!/usr/bin/env bash
# Builds the operator image from the repository's Dockerfile without a daemon and without a
# container registry, the way this machine and CI can: Debian's buildah (vfs storage, chroot
# isolation, so no overlay mounts, no user namespaces and no runtime are needed), on a
# bookworm base made here by debootstrap from Debian's packages (the Dockerfile's BASE
# argument; users keep the official python image), with the locked wheels downloaded on the
# host and installed offline in the build (the Dockerfile's WHEELS argument). The result is a
# docker-archive that `ctr images import` and `kind load image-archive` read.
#
# Slow things are cached outside the checkout, each keyed by what determines it:
#
#   ${CLEANSLATE_CACHE_DIR:-$HOME/.cache/cleanslate}/
#     base/<key>/rootfs.tar   the debootstrap root filesystem (key: suite, variant, packages,
#                             architecture, this script's recipe version)
#     wheels/<key>/           the files of requirements.lock (key: its sha256, Python, arch)
#     buildah/                buildah's storage: the base image and the last build
#     images/cleanslate-image.tar   the output, at a stable path
#
# Usage: hack/build-image.sh    (prints the image reference, the tarball's path and size)
# Environment: CLEANSLATE_CACHE_DIR, CLEANSLATE_DEBIAN_MIRROR (default: debootstrap's own),
# PIP (pip used to download the wheels; default the checkout's .venv, else python3 -m pip).
# Reclaim the disk with `rm -rf ~/.cache/cleanslate/buildah` (the next build is cold).
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cache="${CLEANSLATE_CACHE_DIR:-$HOME/.cache/cleanslate}"
mirror="${CLEANSLATE_DEBIAN_MIRROR:-}"
storage="$cache/buildah"
out="$cache/images/cleanslate-image.tar"

# The base: what the Dockerfile's build and final stages run (`python` with venv, and
# groupadd/useradd, which minbase's passwd package has). Bump RECIPE when the steps change.
SUITE=bookworm
VARIANT=minbase
PACKAGES=python3,python3-venv,python-is-python3
RECIPE=1
PY_TAG=cp311  # bookworm's python3 is 3.11, as is the official base's

log() { printf '[build-image] %s\n' "$*" >&2; }
sha() { sha256sum | cut -c1-16; }

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$repo/pyproject.toml" | head -n1)"
IMAGE="localhost/cleanslate:$version"
arch="$(dpkg --print-architecture 2>/dev/null || uname -m)"

buildah_() { buildah --root "$storage/root" --runroot "$storage/run" --storage-driver vfs "$@"; }

# A fresh machine or CI has none of these: install them from Debian's packages. runc is not
# needed to build (chroot isolation) but runs the image checks (tests/image); buildah only
# recommends it, or crun.
ensure_tools() {
  local missing=() cmd
  for cmd in buildah debootstrap runc; do
    command -v "$cmd" >/dev/null || missing+=("$cmd")
  done
  (( ${#missing[@]} )) || return 0
  if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
    log "missing ${missing[*]}; install them (Debian: apt-get install buildah debootstrap runc)"
    exit 1
  fi
  log "installing ${missing[*]} from Debian's packages ..."
  DEBIAN_FRONTEND=noninteractive apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# ensure_base: prints the local base image's reference, making it when buildah's storage lacks
# it: from the cached root filesystem tarball, or from debootstrap when that is missing too.
ensure_base() {
  local key dir ref rootfs ctr
  key="$(printf '%s\n' "$SUITE" "$VARIANT" "$PACKAGES" "$arch" "$RECIPE" | sha)"
  ref="localhost/cleanslate-base:$SUITE-$key"
  dir="$cache/base/$key"
  if buildah_ inspect --type image "$ref" >/dev/null 2>&1; then
    log "reusing base image $ref"
    printf '%s' "$ref"
    return
  fi
  if [[ ! -s "$dir/rootfs.tar" ]]; then
    log "debootstrap $SUITE ($VARIANT, +$PACKAGES) ${mirror:+from $mirror }..."
    mkdir -p "$dir"
    rm -rf "$dir"/rootfs.?????? # an interrupted run's
    rootfs="$(mktemp -d "$dir/rootfs.XXXXXX")"
    nice -n 10 debootstrap --variant="$VARIANT" --include="$PACKAGES" --arch="$arch" \
      "$SUITE" "$rootfs" ${mirror:+"$mirror"} >"$dir/debootstrap.log" 2>&1 \
      || { log "debootstrap failed, see $dir/debootstrap.log"; tail -n 5 "$dir/debootstrap.log" >&2; exit 1; }
    # What an image does not need: the package caches and lists (apt is not run in it).
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* \
      "$rootfs"/var/log/* "$rootfs"/tmp/*
    tar --numeric-owner -C "$rootfs" -cf "$dir/rootfs.tar.partial" .
    mv -f "$dir/rootfs.tar.partial" "$dir/rootfs.tar"
    rm -rf "$rootfs"
  fi
  log "committing $dir/rootfs.tar as $ref ..."
  ctr="$(buildah_ from --quiet scratch)"
  buildah_ add --quiet "$ctr" "$dir/rootfs.tar" / >/dev/null
  buildah_ config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env LANG=C.UTF-8 --cmd python3 "$ctr"
  buildah_ commit --quiet --rm "$ctr" "$ref" >/dev/null
  printf '%s' "$ref"
}

find_pip() {
  if [[ -n "${PIP:-}" ]]; then
    printf '%s' "$PIP"
  elif [[ -x "$repo/.venv/bin/pip" ]]; then
    printf '%s' "$repo/.venv/bin/pip"
  else
    printf '%s' "python3 -m pip"
  fi
}

# ensure_wheels: prints the directory holding every file requirements.lock pins (binary
# wheels for CPython 3.11 on this architecture, whatever Python the host runs), hash-checked.
ensure_wheels() {
  local key dir pip platforms=() v
  key="$(cat "$repo/requirements.lock" - <<<"$PY_TAG $arch" | sha)"
  dir="$cache/wheels/$key"
  if [[ -f "$dir/.complete" ]]; then
    log "reusing wheels $dir"
    printf '%s' "$dir"
    return
  fi
  local machine
  machine="$(uname -m)"
  for v in $(seq 36 -1 17); do platforms+=(--platform "manylinux_2_${v}_$machine"); done
  platforms+=(--platform "manylinux2014_$machine" --platform "manylinux1_$machine")
  pip="$(find_pip)"
  log "downloading the locked wheels with $pip ..."
  rm -rf "$dir.partial"
  # shellcheck disable=SC2086  # $pip may be "python3 -m pip"
  nice -n 10 $pip download --quiet --disable-pip-version-check --require-hashes --no-deps \
    --only-binary=:all: --implementation cp --python-version 3.11 --abi "$PY_TAG" \
    "${platforms[@]}" -r "$repo/requirements.lock" -d "$dir.partial" >&2
  touch "$dir.partial/.complete"
  rm -rf "$dir"
  mv "$dir.partial" "$dir"
  printf '%s' "$dir"
}

# inputs_key: a digest of everything the build reads (what .dockerignore lets into the
# context, the Dockerfile, the build arguments). Even with every layer cached, buildah on vfs
# copies whole root filesystems for each stage (about a minute here), so an unchanged input
# reuses the tarball instead of asking buildah.
inputs_key() {
  local base="$1" wheels="$2"
  {
    printf '%s\n' "$IMAGE" "$base" "$wheels"
    (cd "$repo" && find Dockerfile .dockerignore requirements.lock pyproject.toml README.md \
        operator -type f ! -path '*/__pycache__/*' ! -name '*.pyc' -print0 \
      | LC_ALL=C sort -z | xargs -0 sha256sum)
  } | sha
}

print_result() {
  printf 'image:   %s\ntarball: %s (%s MiB)\n' "$IMAGE" "$out" "$(du -m "$out" | cut -f1)"
}

main() {
  local start step base wheels key
  start=$SECONDS
  ensure_tools
  mkdir -p "$storage" "$(dirname "$out")"
  # One build at a time per cache (make test and make e2e may both ask for the image).
  exec 9>"$(dirname "$out")/.lock"
  flock 9
  step=$SECONDS
  base="$(ensure_base)"
  log "base ready in $((SECONDS - step)) s"
  step=$SECONDS
  wheels="$(ensure_wheels)"
  log "wheels ready in $((SECONDS - step)) s"
  key="$(inputs_key "$base" "$wheels")"
  if [[ -s "$out" && "$(cat "$out.inputs" 2>/dev/null)" == "$key" ]]; then
    log "nothing changed since $out was built (inputs $key); total $((SECONDS - start)) s"
    print_result
    return
  fi
  rm -f "$out.inputs"
  step=$SECONDS
  log "building $IMAGE from $repo/Dockerfile (BASE=$base) ..."
  # No --layers: with vfs every cached step is a full copy of the root filesystem (even a
  # LABEL or USER), which made a rebuild after a code change 3-4 min against about 70 s
  # for a whole build in one working container per stage; the wheels are local, so
  # rerunning pip costs seconds. The wheels are a read-only mount, not part of any layer.
  # Chroot isolation cannot give RUN its own network namespace (buildah refuses --network
  # none with it); nothing in the build uses the network: pip installs with --no-index.
  nice -n 10 buildah --root "$storage/root" --runroot "$storage/run" --storage-driver vfs \
    bud --isolation chroot --quiet \
    --build-arg "BASE=$base" --build-arg WHEELS=/wheels --volume "$wheels:/wheels:ro" \
    --tag "$IMAGE" --file "$repo/Dockerfile" "$repo" >/dev/null
  log "built in $((SECONDS - step)) s"
  step=$SECONDS
  rm -f "$out.partial"
  buildah_ push --quiet "$IMAGE" "docker-archive:$out.partial:$IMAGE"
  mv -f "$out.partial" "$out"
  printf '%s\n' "$key" >"$out.inputs"
  log "archived in $((SECONDS - step)) s"
  # The previous build, now untagged: a few hundred MB on vfs. The base keeps its tag.
  buildah_ rmi --prune >/dev/null 2>&1 || log "could not prune old images in $storage"
  log "total $((SECONDS - start)) s"
  print_result
}

main "$@"
