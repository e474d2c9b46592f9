#!/usr/bin/env bash
# The e2e node's runtime: Debian's containerd (1.6, which speaks the CRI v1 a kubelet
# v1.34 wants) and runc. A fresh machine or CI has neither: install them from Debian's
# packages when missing (root and apt-get needed; otherwise say what to install).
# The package's systemd unit is not used: tests/e2e starts its own containerd, with its
# own config, socket and state under a temp dir, and stops it.
set -euo pipefail
missing=()
for cmd in containerd ctr runc ss; do
  command -v "$cmd" >/dev/null || missing+=("$cmd")
done
(( ${#missing[@]} )) || exit 0
if [[ $(id -u) -ne 0 ]] || ! command -v apt-get >/dev/null; then
  echo "[node-packages] missing ${missing[*]}: install containerd, runc and iproute2" \
    "(Debian: apt-get install containerd runc iproute2)" >&2
  exit 1
fi
echo "[node-packages] installing containerd runc iproute2 (missing: ${missing[*]})" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends containerd runc iproute2 >/dev/null
