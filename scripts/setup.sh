#!/usr/bin/env bash
# Installs the Debian packages warden and its tests need, only when they are missing.
# bubblewrap is the Linux sandbox; chromium drives the inspector's browser tests.
set -euo pipefail
need=()
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
[ -x /usr/bin/chromium ] || need+=(chromium)
if [ "${#need[@]}" -gt 0 ]; then
  if [ "$(uname -s)" != Linux ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "warden setup: please install: ${need[*]} (no apt-get here)" >&2
    exit 1
  fi
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "warden setup: installing ${need[*]}" >&2
  $sudo apt-get install -y --no-install-recommends "${need[@]}" >&2 || {
    $sudo apt-get update >&2 && $sudo apt-get install -y --no-install-recommends "${need[@]}" >&2
  }
fi
