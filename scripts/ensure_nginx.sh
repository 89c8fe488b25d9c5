#!/usr/bin/env bash
# Install Debian's nginx for the distributed run (`make distributed`) when it is missing.
# Only the binary is needed: the run starts a private nginx with its own prefix, config and
# pid file under var/distributed/nginx and never uses the system's nginx service.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=sudo; else
    echo "nginx is missing and installing it needs root: apt-get install nginx-light" >&2
    exit 1
  fi
else
  SUDO=""
fi
echo "==> Installing Debian's nginx package for the distributed run"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# nginx-light is the small build (Debian 12); newer releases ship one `nginx` package only.
if apt-cache show nginx-light >/dev/null 2>&1; then PACKAGE=nginx-light; else PACKAGE=nginx; fi
$SUDO apt-get install -y -qq --no-install-recommends "$PACKAGE" >/dev/null
/usr/sbin/nginx -v
