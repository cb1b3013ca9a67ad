#!/bin/sh
# Install everything the lab needs, from Debian's packages only. Idempotent.
# The arm64 crash binary cannot be installed beside the host's binutils, so it
# is unpacked with its arm64 libraries into a private sysroot and run under
# qemu-aarch64-static -L <sysroot>.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.conf"
SUDO=
[ "$(id -u)" = 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive

stamp="$BUILD/.deps-done"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$DEPS_VERSION" ] && [ -x "$CRASH_ROOT/usr/bin/crash" ]; then
	echo "deps: already installed"
	exit 0
fi

$SUDO dpkg --add-architecture arm64
$SUDO apt-get update -q >/dev/null

pin="linux-source-6.12=$LINUX_SOURCE_VERSION"
if ! apt-cache show "$pin" >/dev/null 2>&1; then
	cand=$(apt-cache policy linux-source-6.12 | awk '/Candidate:/ {print $2}')
	echo "##############################################################" >&2
	echo "deps: WARNING: linux-source-6.12 $LINUX_SOURCE_VERSION is gone;" >&2
	echo "deps: WARNING: using the candidate $cand instead." >&2
	echo "deps: WARNING: the series was written against $LINUX_SOURCE_VERSION." >&2
	echo "##############################################################" >&2
	pin=linux-source-6.12
fi

$SUDO apt-get install -y -q --no-install-recommends "$pin" \
	gcc-aarch64-linux-gnu libc6-dev-arm64-cross binutils-aarch64-linux-gnu \
	qemu-system-arm qemu-user-static qemu-efi-aarch64 ipxe-qemu \
	flex bison bc libssl-dev libelf-dev cpio ccache xz-utils rsync \
	kexec-tools sparse coccinelle ocaml-nox clang lld llvm device-tree-compiler \
	python3 python3-ply python3-git perl git make gcc libc6-dev >/dev/null

# crash for arm64, in a private sysroot.
mkdir -p "$CRASH_ROOT" "$BUILD/debs"
cd "$BUILD/debs"
rm -f ./*.deb
apt-get download -q crash:arm64 libc6:arm64 liblzo2-2:arm64 libsnappy1v5:arm64 \
	libncursesw6:arm64 libtinfo6:arm64 libzstd1:arm64 libstdc++6:arm64 \
	libgcc-s1:arm64 zlib1g:arm64 >/dev/null
for d in ./*.deb; do
	dpkg-deb -x "$d" "$CRASH_ROOT"
done
qemu-aarch64-static -L "$CRASH_ROOT" "$CRASH_ROOT/usr/bin/crash" --version | head -n 1

echo "$DEPS_VERSION" >"$stamp"
echo "deps: done"
