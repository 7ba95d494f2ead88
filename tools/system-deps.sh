#!/usr/bin/env bash
# Install (from Debian's packages, with apt-get) the system tools the test suite drives; never
# needed to evaluate a release. Installs only what is missing; sudo when not root.
#
# Each tool is checked by using it (a compiler compiles and links, chromium starts headless, a
# command runs), not by the command's presence: a cross compiler without its C library headers
# (only a recommendation, which --no-install-recommends leaves out) is present but useless.
set -euo pipefail
base=$(mktemp -d)
trap 'rm -rf "$base"' EXIT
works() { "$@" >/dev/null 2>&1; }
need() { local package=$1; shift; works "$@" || missing+=("$package"); }

# Every check, in a fresh folder: run before installing, and again after to prove the install.
check() {
missing=()
work=$(mktemp -d -p "$base")
printf '#include <stdio.h>\n#include <zlib.h>\nint main(void){puts(zlibVersion());return 0;}\n' \
  >"$work/hello.c"
printf '#include <stdio.h>\nint main(void){puts("x");return 0;}\n' >"$work/plain.c"
mkdir "$work/tree" && echo x >"$work/tree/x"

# The build sandbox, image extractors and archive tools.
need bubblewrap bwrap --ro-bind / / --dev /dev --proc /proc true
works mksquashfs "$work/tree" "$work/x.sqfs" -noappend && works unsquashfs -l "$work/x.sqfs" &&
  works mksquashfs "$work/tree" "$work/xz.sqfs" -noappend -comp xz || missing+=(squashfs-tools)
# The router release of tests/realworld/router_release.py ships an SSH host key made here.
need openssh-client ssh-keygen -q -t ed25519 -N "" -C test -f "$work/host_key"
need cpio cpio --version
works zip -q "$work/x.zip" "$work/tree/x" || missing+=(zip)  # the fuzzing harness's zip seed
# ext and cramfs images (e2fsprogs is required priority and util-linux essential on Debian, but
# mkfs.cramfs moved to util-linux-extra in newer releases): build one of each.
works /sbin/mke2fs -q -F -t ext4 -d "$work/tree" "$work/x.ext4" 4M &&
  works /sbin/debugfs -R "ls /" "$work/x.ext4" || missing+=(e2fsprogs)
works mkfs.cramfs "$work/tree" "$work/x.cramfs" || works /sbin/mkfs.cramfs "$work/tree" \
  "$work/x.cramfs" || missing+=(util-linux-extra)
# Firmware images for the carving tests (and the tools unblob runs, in the sandbox, to open
# 7z, lzo and lz4 legacy streams): build a tiny image with each, read back where a reader exists.
works mkfs.jffs2 -r "$work/tree" -o "$work/x.jffs2" || works /usr/sbin/mkfs.jffs2 -r "$work/tree" \
  -o "$work/x.jffs2" || missing+=(mtd-utils)
works /usr/sbin/mkfs.ubifs -r "$work/tree" -o "$work/x.ubifs" -m 2048 -e 126976 -c 64 ||
  missing+=(mtd-utils)
# The MIPS router release of tests/realworld/mips_release.py: an LZMA kernel with OpenWrt's
# properties (xz-utils), a fresh key and password hash for its configuration (openssl).
works xz --format=lzma --lzma1=preset=6,lc=1,lp=2,pb=2 -k -c "$work/tree/x" ||
  missing+=(xz-utils)
need openssl sh -c "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
  -out '$work/x.key' && echo x | openssl passwd -6 -stdin"
need genromfs genromfs -d "$work/tree" -f "$work/x.romfs"
need u-boot-tools mkimage -A arm -T kernel -C none -a 0 -e 0 -d "$work/tree/x" "$work/x.uimg"
need device-tree-compiler sh -c "echo '/dts-v1/; / { };' | dtc -O dtb -o '$work/x.dtb'"
works 7z a -bd "$work/x.7z" "$work/tree" && works 7z t "$work/x.7z" || missing+=(p7zip-full)
# 7zz reads the squashfs variants unsquashfs does not (LZMA blocks): extract a real image with it;
# file (libmagic's command) checks the tests' squashfs 3 writer.
works 7zz x -y -o"$work/7zz" "$work/x.sqfs" && works cmp "$work/7zz/x" "$work/tree/x" ||
  missing+=(7zip)
need file sh -c "file -b '$work/x.sqfs' | grep -q '^Squashfs filesystem, little endian, version 4.0'"
works lzop -o "$work/x.lzo" "$work/tree/x" && works lzop -t "$work/x.lzo" || missing+=(lzop)
# unyaffs, the tests' independent reader of the yaffs2 images they write (no packaged tool
# builds one): four directory headers, 2 KiB pages and 64-byte spares, read back.
python3 - "$work/x.yaffs2" <<'PY'
import struct, sys
chunks = b""
for n in range(4):
    header = struct.pack("<IIH", 3, 1, 0xFFFF) + b"d%d" % n + bytes(254)
    tags = struct.pack("<4I", 0x1000, 0x100 + n, 0, 0xFFFF)
    chunks += header.ljust(2048, b"\xff") + tags.ljust(64, b"\xff")
open(sys.argv[1], "wb").write(chunks)
PY
works unyaffs "$work/x.yaffs2" "$work/yaffs" && [ -d "$work/yaffs/d3" ] || missing+=(unyaffs)
works lz4 -l -f "$work/tree/x" "$work/x.lz4" && works lz4 -t "$work/x.lz4" || missing+=(lz4)
works zstd -q -f "$work/tree/x" -o "$work/x.zst" && works zstd -t "$work/x.zst" || missing+=(zstd)
# libmagic, which unblob (a Python dependency) loads through python-magic.
need libmagic1 python3 -c "import ctypes; ctypes.CDLL('libmagic.so.1')"
need binutils readelf --version
need llvm llvm-mc --version
# The native toolchain and zlib headers (the rebuild tests build libpng).
works gcc -o "$work/hello" "$work/hello.c" -lz && works "$work/hello" ||
  missing+=(build-essential zlib1g-dev)
need make make --version
# pylibfdt (read FIT images) installs from its source: a C file using the interpreter's
# headers must compile.
printf '#include <Python.h>\nint main(void) { return Py_IsInitialized(); }\n' > "$work/py.c"
need python3-dev sh -c "gcc -fsyntax-only -I\"\$(python3 -c 'import sysconfig; print(sysconfig.get_paths()[\"include\"])')\" '$work/py.c'"
# Cross compilers for big-endian test binaries: compile and link a program.
for arch in mips powerpc; do
  works "$arch-linux-gnu-gcc" -o "$work/$arch" "$work/plain.c" ||
    missing+=("gcc-$arch-linux-gnu" "libc6-dev-$arch-cross")
done
# qemu-user runs Debian's big-endian (s390x) unyaffs, the reader of the big-endian images: run a
# static big-endian program with it (without the cross compiler it is installed too, untested).
works powerpc-linux-gnu-gcc -static -o "$work/ppc-static" "$work/plain.c" &&
  works qemu-ppc-static "$work/ppc-static" && works qemu-s390x-static -version ||
  missing+=(qemu-user-static)
# A headless browser for the report's browser tests, and npm for the jscpd oracle.
need chromium timeout 60 chromium --headless --no-sandbox --disable-gpu --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/chrome" --dump-dom about:blank
need chromium-driver chromedriver --version
need npm npm --version
}

check
if ((${#missing[@]})); then
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
    $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
  check
  if ((${#missing[@]})); then
    echo "system-deps: installed, but still not working: $(printf '%s\n' "${missing[@]}" |
      sort -u | tr '\n' ' ')" >&2
    exit 1
  fi
fi
