#!/usr/bin/env bash
# Install (from Debian's packages, with apt-get) the system tools the test suite drives; never
# needed to evaluate a release. Installs only what is missing; sudo when not root.
set -euo pipefail
# System tools the tests drive (never the evaluated input): the build sandbox, image extractors,
# cross compilers for big-endian test binaries, a headless browser, npm for the jscpd oracle.
need=(bwrap:bubblewrap unsquashfs:squashfs-tools mksquashfs:squashfs-tools cpio:cpio
      readelf:binutils chromium:chromium chromedriver:chromium-driver
      mips-linux-gnu-gcc:gcc-mips-linux-gnu powerpc-linux-gnu-gcc:gcc-powerpc-linux-gnu npm:npm
      llvm-mc:llvm)
missing=()
for pair in "${need[@]}"; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair##*:}")
done
command -v gcc >/dev/null && command -v make >/dev/null || missing+=(build-essential)
[ -e /usr/include/zlib.h ] || missing+=(zlib1g-dev)  # rebuild tests build libpng
# A cross compiler is only usable with its target's C library headers (a recommendation, which
# --no-install-recommends leaves out): check by compiling, not by the command's presence.
for arch in mips powerpc; do
  printf '#include <stdio.h>\nint main(void){puts("x");return 0;}\n' |
    "$arch-linux-gnu-gcc" -x c -c -o /dev/null - 2>/dev/null ||
    missing+=("gcc-$arch-linux-gnu" "libc6-dev-$arch-cross")
done
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi
