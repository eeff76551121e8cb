#!/usr/bin/env bash
# Ensures a built swift-corelibs-libdispatch and prints its install prefix on stdout (nothing else).
#
#   native/deps/libdispatch.sh [PLATFORM]
#                             PLATFORM (JavaCPP's name) defaults to this machine's (linux-x86_64 or
#                             linux-arm64); linux-arm64 on a linux-x86_64 machine is cross-compiled with
#                             native/cmake/linux-arm64.cmake
#   LIBDISPATCH_ROOT=/prefix  use an existing install (lib/libdispatch.so, include/dispatch/dispatch.h)
#   JDISPATCH_CACHE=/dir      where builds are cached (default ~/.cache/jdispatch), keyed by version, our
#                             patches (native/deps/patches) and platform; the extracted source is kept there too, shared by all platforms
#
# On Linux the source comes from Debian's `swiftlang` source package (it contains the
# swift-corelibs-libdispatch tree), fetched with a private apt configuration whose mirror is taken from
# this machine's own apt sources; the system's apt configuration is never touched.
# On macOS libdispatch is part of libSystem and nothing is built.
set -euo pipefail

VERSION=6.0.3
log() { echo "libdispatch: $*" >&2; }

if [[ "$(uname -s)" == Darwin ]]; then echo /usr; exit 0; fi

if [[ -n "${LIBDISPATCH_ROOT:-}" ]]; then
  [[ -f "$LIBDISPATCH_ROOT/include/dispatch/dispatch.h" ]] \
    || { log "LIBDISPATCH_ROOT=$LIBDISPATCH_ROOT has no include/dispatch/dispatch.h"; exit 1; }
  echo "$LIBDISPATCH_ROOT"; exit 0
fi

host=linux-$(uname -m | sed 's/^aarch64$/arm64/')
platform=${1:-$host}
cmake_cross=()
if [[ "$platform" != "$host" ]]; then
  toolchain="$(cd "$(dirname "$0")/.." && pwd)/cmake/$platform.cmake"
  [[ "$host" == linux-x86_64 && -f "$toolchain" ]] \
    || { log "cannot build libdispatch for $platform on $host (cross builds: linux-arm64 on linux-x86_64)"; exit 1; }
  cmake_cross=(-DCMAKE_TOOLCHAIN_FILE="$toolchain")
fi

cache="${JDISPATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/jdispatch}"
# Our patches (native/deps/patches/*.patch, applied in order to a copy of the source) are part of the key.
patches=("$(cd "$(dirname "$0")" && pwd)"/patches/*.patch)
[[ -f "${patches[0]}" ]] || patches=()
patch_id=$(cat "${patches[@]}" /dev/null | sha256sum | cut -c1-8)
prefix="$cache/libdispatch-$VERSION-$patch_id-$platform"
if [[ -f "$prefix/.complete" ]]; then echo "$prefix"; exit 0; fi

"$(dirname "$0")/tools.sh" "$platform" >&2

# The source, once per version: every platform builds from the same tarball.
src="$cache/src-$VERSION/swift-corelibs-libdispatch"
if [[ ! -f "$src/.complete" ]]; then
  work="$cache/work-$VERSION"
  rm -rf "$work" && mkdir -p "$work/apt/lists/partial" "$work/apt/cache/archives/partial" "$work/src"

  # The Debian mirror this machine already uses: deb822 sources first, then the one-line format.
  mirror=$(awk '/^URIs:/ && !/security/ {print $2; exit}' /etc/apt/sources.list.d/*.sources 2>/dev/null || true)
  [[ -n "$mirror" ]] || mirror=$(awk '/^deb / && !/security/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n "$mirror" ]] || { log "no Debian mirror found in /etc/apt/sources.list{,.d}"; exit 1; }

  echo "deb-src $mirror trixie main" > "$work/apt/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$work/apt/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$work/apt/lists" -o "Dir::Cache=$work/apt/cache" -o APT::Sandbox::User=root)
  log "fetching swiftlang $VERSION source from the configured Debian mirror"
  apt-get "${apt_opts[@]}" -qq update >&2
  debver=$(apt-cache "${apt_opts[@]}" showsrc swiftlang | awk -v v="$VERSION" '$1=="Version:" && index($2, v"-")==1 {print $2; exit}')
  [[ -n "$debver" ]] || { log "the trixie mirror has no swiftlang $VERSION source"; exit 1; }
  orig="swiftlang_$VERSION.orig.tar.xz"
  (cd "$work/src" && apt-get "${apt_opts[@]}" -qq source --download-only "swiftlang=$debver" >&2) \
    || [[ -f "$work/src/$orig" ]]   # the .debian.tar.xz part may be missing; only the orig tarball is needed
  [[ -f "$work/src/$orig" ]] || { log "download of $orig failed"; exit 1; }

  log "extracting swift-corelibs-libdispatch"
  tar -C "$work/src" -xJf "$work/src/$orig" --wildcards "swiftlang-$VERSION/swift-corelibs-libdispatch/*"
  rm -rf "$(dirname "$src")" && mkdir -p "$(dirname "$src")"
  mv "$work/src/swiftlang-$VERSION/swift-corelibs-libdispatch" "$src"
  rm -rf "$work"
  touch "$src/.complete"
fi

log "building for $platform with clang"
build="$cache/build-$VERSION-$platform"
rm -rf "$build" "$prefix"
mkdir -p "$build"
cp -a "$src" "$build/src"
for p in "${patches[@]}"; do
  log "applying $(basename "$p")"
  patch -d "$build/src" -p1 --forward --batch <"$p" >&2
done
cmake -S "$build/src" -B "$build/out" -G Ninja "${cmake_cross[@]}" \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release \
  -DBUILD_TESTING=OFF -DCMAKE_INSTALL_PREFIX="$prefix" >&2
ninja -C "$build/out" install >&2
rm -rf "$build"
touch "$prefix/.complete"
log "installed in $prefix"
echo "$prefix"
