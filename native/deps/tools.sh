#!/usr/bin/env bash
# Installs the native build tools that are missing (Debian/Ubuntu; idempotent, quiet when all are present).
set -euo pipefail
need=()
command -v clang   >/dev/null || need+=(clang)
command -v clang++ >/dev/null || need+=(clang)
command -v ninja   >/dev/null || need+=(ninja-build)
command -v cmake   >/dev/null || need+=(cmake)
command -v xz      >/dev/null || need+=(xz-utils)
command -v unzip   >/dev/null || need+=(unzip)
[[ ${#need[@]} -eq 0 ]] && exit 0
command -v apt-get >/dev/null || { echo "missing tools: ${need[*]} (install them)" >&2; exit 1; }
sudo=""; [[ $(id -u) -eq 0 ]] || sudo=sudo
echo "installing: ${need[*]}" >&2
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}"
