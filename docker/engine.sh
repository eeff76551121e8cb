#!/usr/bin/env bash
# A Docker engine for the tests and the images, on machines that have none.
#
#   docker/engine.sh start   use the engine that answers; where none does, install docker.io and debootstrap
#                            (apt, as root), start a private dockerd (own data root, exec root, socket and
#                            pidfile under $JDISPATCH_DOCKER_DIR) and make the debian:bookworm base image with
#                            debootstrap from this machine's Debian mirror. Idempotent: done steps are skipped.
#   docker/engine.sh stop    stop the private dockerd (never an engine this script did not start)
#   docker/engine.sh status  exit 0 when the private dockerd is running
#   docker/engine.sh env     print the exports that point the docker CLI and Testcontainers at the private
#                            engine (nothing when it is not running): eval "$(docker/engine.sh env)"
#
# A machine whose own engine answers and can pull gets nothing special: no private engine, no env.
set -euo pipefail

dir="${JDISPATCH_DOCKER_DIR:-/var/tmp/jdispatch-docker}"
sock="$dir/docker.sock"
pidfile="$dir/dockerd.pid"
log() { echo "engine: $*" >&2; }

ours_running() {
  [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null && docker -H "unix://$sock" version >/dev/null 2>&1
}

# The Debian mirror this machine already uses: deb822 sources first, then the one-line format.
debian_mirror() {
  local m
  m=$(awk '/^URIs:/ && !/security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [[ -n "$m" ]] || m=$(awk '/^deb / && !/security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n "$m" ]] || { log "no Debian mirror found in /etc/apt/sources.list{,.d}"; return 1; }
  echo "$m"
}

install_missing() {
  local need=()
  command -v dockerd >/dev/null && command -v docker >/dev/null || need+=(docker.io)
  command -v debootstrap >/dev/null || need+=(debootstrap)
  [[ ${#need[@]} -eq 0 ]] && return 0
  [[ $(id -u) -eq 0 ]] || { log "need ${need[*]} and root to install them; or start Docker yourself"; return 1; }
  command -v apt-get >/dev/null || { log "need ${need[*]} (no apt-get here: install them)"; return 1; }
  log "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
}

start_private() {
  [[ $(id -u) -eq 0 ]] || { log "no Docker engine answers, and starting one needs root"; return 1; }
  mkdir -p "$dir/data" "$dir/exec"
  rm -f "$sock" "$pidfile"
  log "starting dockerd (data root $dir/data, socket $sock, log $dir/dockerd.log)"
  setsid dockerd --data-root "$dir/data" --exec-root "$dir/exec" -H "unix://$sock" --pidfile "$pidfile" \
    --storage-driver overlay2 </dev/null >"$dir/dockerd.log" 2>&1 &
  local pid=$! i
  for ((i = 0; i < 120; i++)); do
    docker -H "unix://$sock" version >/dev/null 2>&1 && { log "dockerd $pid answers"; return 0; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.5
  done
  log "dockerd did not come up; the end of its log:"; tail -20 "$dir/dockerd.log" >&2
  kill "$pid" 2>/dev/null || true
  return 1
}

# debian:bookworm: pulled where the engine can pull, else built with debootstrap from this machine's Debian
# mirror, with the CAs this machine added (see below).
ensure_base_image() {
  docker image inspect debian:bookworm >/dev/null 2>&1 && return 0
  if [[ -z "${DOCKER_HOST:-}" || "$DOCKER_HOST" != "unix://$sock" ]]; then
    docker pull -q debian:bookworm >&2 && return 0
  fi
  local mirror root
  install_missing   # debootstrap, where an engine that cannot pull was already there
  mirror=$(debian_mirror)
  root="$dir/rootfs"
  rm -rf "$root"
  log "making debian:bookworm with debootstrap from $mirror"
  debootstrap --variant=minbase bookworm "$root" "$mirror" >"$dir/debootstrap.log" 2>&1 \
    || { log "debootstrap failed; the end of its log:"; tail -20 "$dir/debootstrap.log" >&2; return 1; }
  rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/*
  # The CAs this machine added to its trust (e.g. for a TLS-intercepting proxy before Maven Central): an image
  # that installs ca-certificates then trusts them too, as the host does.
  if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    mkdir -p "$root/usr/local/share/ca-certificates"
    cp /usr/local/share/ca-certificates/*.crt "$root/usr/local/share/ca-certificates/"
  fi
  tar -C "$root" -c . | docker import - debian:bookworm >/dev/null
  rm -rf "$root"
}

case "${1:-}" in
  start)
    if ours_running; then
      export DOCKER_HOST="unix://$sock"
    elif docker version >/dev/null 2>&1; then
      log "using the Docker engine that answers${DOCKER_HOST:+ at $DOCKER_HOST}"
    else
      install_missing
      if ! docker version >/dev/null 2>&1; then   # installing docker.io may have started the system's engine
        start_private
        export DOCKER_HOST="unix://$sock"
      fi
    fi
    ensure_base_image
    ;;
  stop)
    if [[ -f "$pidfile" ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
      pid=$(cat "$pidfile")
      log "stopping dockerd $pid"
      kill "$pid"
      for ((i = 0; i < 60; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
      kill -0 "$pid" 2>/dev/null && { log "dockerd $pid still running after 30 s"; exit 1; }
      # dockerd leaves its default network namespace mounted under the exec root: unmount what lies under
      # our folder, so that removing it is a plain rm -rf.
      findmnt -rn -o TARGET | grep "^$dir/" | sort -r | xargs -r umount || true
    fi
    ;;
  status)
    ours_running
    ;;
  env)
    if ours_running; then
      echo "export DOCKER_HOST=unix://$sock"
      # Ryuk (Testcontainers' reaper) is an image that cannot be pulled here; the tests close their containers.
      echo "export TESTCONTAINERS_RYUK_DISABLED=true"
      # This machine has /.dockerenv: without the override Testcontainers pulls alpine to find a gateway.
      echo "export TESTCONTAINERS_HOST_OVERRIDE=localhost"
    fi
    ;;
  *)
    echo "usage: $0 start|stop|status|env" >&2; exit 2
    ;;
esac
