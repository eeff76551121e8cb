#!/usr/bin/env bash
# Installs the build tools that are missing (Debian/Ubuntu; idempotent, quiet when all are present).
#
#   native/deps/tools.sh               clang, ninja, cmake, xz, unzip: the host build
#   native/deps/tools.sh linux-x86_64  the same (the platform this machine builds for natively)
#   native/deps/tools.sh linux-arm64   on a linux-x86_64 machine: also the arm64 cross toolchain (lld and
#                                      Debian's arm64 cross libc, libgcc and libstdc++)
#   native/deps/tools.sh qemu-arm64    qemu-user, which runs arm64 programs here (scripts/test-arm64)
#   native/deps/tools.sh sanitizers    clang's sanitizer runtimes (scripts/sanitize)
#   native/deps/tools.sh wrk           the HTTP load generator (bench/run's HTTP benchmark)
#
# Packages are installed with apt-get as root, or through sudo where it works without a password. Otherwise
# nothing is installed: the script names what is missing and the command that installs it, and fails.
set -euo pipefail

host=linux-$(uname -m | sed 's/^aarch64$/arm64/')
gcc_major=$(gcc -dumpversion 2>/dev/null | cut -d. -f1 || true)
need=()
missing() { need+=("$1"); }   # <Debian package>

build_tools() {
  command -v clang   >/dev/null || missing clang
  command -v clang++ >/dev/null || missing clang
  command -v ninja   >/dev/null || missing ninja-build
  command -v cmake   >/dev/null || missing cmake
  command -v xz      >/dev/null || missing xz-utils
  command -v unzip   >/dev/null || missing unzip
  command -v patch   >/dev/null || missing patch
}

for set in "${@:-$host}"; do
  case "$set" in
    "$host") build_tools ;;
    linux-arm64)   # cross-compiling from linux-x86_64 (native/cmake/linux-arm64.cmake)
      build_tools
      command -v ld.lld >/dev/null || missing lld
      [[ -f /usr/aarch64-linux-gnu/include/stdio.h ]] || missing libc6-dev-arm64-cross
      [[ -n "$gcc_major" ]] || { echo "tools: gcc is needed to name the matching cross packages" >&2; exit 1; }
      compgen -G "/usr/lib/gcc-cross/aarch64-linux-gnu/*/libgcc.a" >/dev/null || missing "libgcc-$gcc_major-dev-arm64-cross"
      compgen -G "/usr/aarch64-linux-gnu/include/c++/*/vector" >/dev/null || missing "libstdc++-$gcc_major-dev-arm64-cross"
      ;;
    qemu-arm64)
      command -v qemu-aarch64 >/dev/null || missing qemu-user
      ;;
    sanitizers)
      command -v clang >/dev/null || missing clang
      if command -v clang >/dev/null && [[ ! -f $(clang -print-file-name=libclang_rt.asan-$(uname -m).so) ]]; then
        missing "libclang-rt-$(clang -dumpversion | cut -d. -f1)-dev"
      fi
      ;;
    wrk)
      command -v wrk >/dev/null || missing wrk
      ;;
    *)
      echo "tools: no tool set '$set' (this machine builds $host; sets: linux-arm64, qemu-arm64, sanitizers, wrk)" >&2
      exit 2 ;;
  esac
done
[[ ${#need[@]} -eq 0 ]] && exit 0

mapfile -t need < <(printf '%s\n' "${need[@]}" | sort -u)
install="apt-get install -y --no-install-recommends ${need[*]}"
if ! command -v apt-get >/dev/null; then
  echo "tools: missing ${need[*]} (Debian package names; no apt-get here: install the equivalents)" >&2
  exit 1
fi
if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  as_root=(sudo)
else
  echo "tools: missing ${need[*]}; not root and no password-less sudo, so nothing was installed." >&2
  echo "tools: as root, run: apt-get update && $install" >&2
  exit 1
fi
echo "tools: installing ${need[*]}" >&2
"${as_root[@]}" apt-get update -qq >&2
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2
