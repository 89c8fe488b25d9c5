#!/usr/bin/env bash
# Install Debian's Chromium for the browser tests when it is missing. Never downloads a browser
# build of its own: the browser comes from the distribution's packages only.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "Chromium is missing and installing it needs root: apt-get install chromium" >&2
    exit 1
  fi
else
  SUDO=""
fi
echo "==> Installing Debian's chromium package for the browser tests"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
/usr/bin/chromium --version
