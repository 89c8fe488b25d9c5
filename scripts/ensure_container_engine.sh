#!/usr/bin/env bash
# A container engine for the compose stack (`make distributed`, `make test-containers`), from
# Debian's packages when it is missing, and started when it is not running:
#   - docker.io: dockerd, containerd and runc, run with the cgroupfs driver (no systemd here);
#   - docker-compose from Debian's next suite (trixie): Compose v2, a static binary needing only
#     libc, which honours `depends_on` health conditions and `up --wait` (bookworm's 1.29 rejects
#     the Compose Specification's top-level `name`). An apt source for that suite is added,
#     pinned so that only this one package ever comes from it;
#   - debootstrap: the stand-in images' Debian base (scripts/container_stack.py);
#   - with --podman, Debian's podman 4.3 for `podman kube play` (scripts/kube_play.py), with
#     netavark and aardvark-dns (a network whose DNS answers pod names) and catatonit (the pause
#     process of a pod's infra container). It runs with runc and the cgroupfs manager, set by
#     kube_play.py's containers.conf (no systemd here).
# The mirror is the one this machine's apt already uses. Needs root (or sudo) to install and to
# start dockerd; prints what it does, and exits non-zero with the reason when it cannot.
set -euo pipefail

WITH_PODMAN=false
for argument in "$@"; do
  case "$argument" in
    --podman) WITH_PODMAN=true ;;
    *) echo "usage: $0 [--podman]" >&2; exit 2 ;;
  esac
done

DOCKERD_LOG=${TESSERA_DOCKERD_LOG:-/var/log/tessera-dockerd.log}
TRIXIE_SOURCE=/etc/apt/sources.list.d/tessera-trixie.sources
TRIXIE_PIN=/etc/apt/preferences.d/tessera-trixie

if [ "$(id -u)" -eq 0 ]; then
  SUDO=""
elif command -v sudo >/dev/null 2>&1; then
  SUDO=sudo
else
  SUDO=none
fi

as_root() {
  if [ "$SUDO" = none ]; then
    echo "The container engine needs root to install or start: $*" >&2
    exit 1
  fi
  $SUDO "$@"
}

compose_v2() {
  command -v docker-compose >/dev/null 2>&1 \
    && docker-compose version --short 2>/dev/null | grep -q '^v\?2\.'
}

engine_answers() {
  timeout 10 docker info >/dev/null 2>&1
}

# The first Debian mirror this machine's apt uses (deb822 or one-line sources).
debian_mirror() {
  local mirror
  mirror=$(grep -hE '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null \
    | awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
  if [ -z "$mirror" ]; then
    mirror=$(grep -hE '^deb ' /etc/apt/sources.list 2>/dev/null \
      | awk '{print $2}' | grep -v -- '-security' | head -n 1 || true)
  fi
  if [ -z "$mirror" ]; then
    echo "No Debian mirror found in /etc/apt/sources.list(.d)" >&2
    exit 1
  fi
  echo "$mirror"
}

missing=()
command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || missing+=(debootstrap)
if $WITH_PODMAN; then
  for program in podman netavark aardvark-dns catatonit; do
    if ! command -v "$program" >/dev/null 2>&1 && [ ! -x "/usr/lib/podman/$program" ] \
        && [ ! -x "/usr/libexec/podman/$program" ]; then
      missing+=("$program")
    fi
  done
fi
if [ ${#missing[@]} -gt 0 ] || ! compose_v2; then
  export DEBIAN_FRONTEND=noninteractive
  if ! compose_v2; then
    echo "==> Adding Debian's trixie suite, pinned to its docker-compose package (Compose v2)"
    mirror=$(debian_mirror)
    as_root tee "$TRIXIE_SOURCE" >/dev/null <<EOF
# Added by Tessera's scripts/ensure_container_engine.sh: Compose v2 only (see $TRIXIE_PIN).
Types: deb
URIs: $mirror
Suites: trixie
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    as_root tee "$TRIXIE_PIN" >/dev/null <<'EOF'
# Nothing comes from trixie unless named here (priority 1: never chosen by itself).
Package: *
Pin: release n=trixie
Pin-Priority: 1

Package: docker-compose
Pin: release n=trixie
Pin-Priority: 990
EOF
    missing+=(docker-compose)
  fi
  echo "==> Installing Debian's ${missing[*]}"
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! engine_answers; then
  echo "==> Starting dockerd (cgroupfs driver; log: $DOCKERD_LOG)"
  as_root sh -c "setsid nohup dockerd --exec-opt native.cgroupdriver=cgroupfs \
    >>'$DOCKERD_LOG' 2>&1 &"
  for _ in $(seq 60); do
    engine_answers && break
    sleep 1
  done
  if ! engine_answers; then
    echo "dockerd did not answer within 60 s; the end of $DOCKERD_LOG:" >&2
    tail -n 20 "$DOCKERD_LOG" >&2 || true
    exit 1
  fi
fi
echo "==> Container engine: $(docker version --format 'Docker {{.Server.Version}}'), \
Compose $(docker-compose version --short)"
if $WITH_PODMAN; then
  echo "==> Local Kubernetes player: $(podman --version)"
fi
