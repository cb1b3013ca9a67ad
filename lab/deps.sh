#!/bin/sh
# Install everything the lab needs, from Debian's packages only. Idempotent.
# QEMU comes from bookworm-backports, for its packages alone: the suite is
# added at apt's default backports priority (nothing else moves) and the
# version is pinned in lab.conf. The arm64 crash binary cannot be installed
# beside the host's binutils, so a newer one (lab.conf) is downloaded through a
# private apt configuration (build/apt: the host's package lists stay as they are) and
# unpacked with its arm64 libraries into a private sysroot, run under
# qemu-aarch64-static -L <sysroot>. The guest's arm64 kexec-tools comes the
# same way (build/apt-kexec, build/kexec-root).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.conf"

stamp="$BUILD/.deps-done"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$DEPS_VERSION" ] && [ -x "$CRASH_ROOT/usr/bin/crash" ] &&
	[ -x "$KEXEC_ROOT/usr/sbin/kexec" ] &&
	[ -f "$LINUX_SOURCE_DEB_7_3" ] &&
	[ "$(dpkg-query -W -f='${Version}' qemu-system-arm 2>/dev/null)" = "$QEMU_VERSION" ] &&
	sh "$here/qemu-root.sh" --check; then
	echo "deps: already installed"
	exit 0
fi

$SUDO dpkg --add-architecture arm64
printf '%s\n' "Types: deb" "URIs: http://deb.debian.org/debian" "Suites: bookworm-backports" \
	"Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" |
	$SUDO tee /etc/apt/sources.list.d/smmu-kdump-lab-backports.sources >/dev/null
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
	"qemu-system-arm=$QEMU_VERSION" "qemu-system-common=$QEMU_VERSION" \
	"qemu-system-data=$QEMU_VERSION" qemu-user-static qemu-efi-aarch64 ipxe-qemu \
	flex bison bc libssl-dev libelf-dev cpio ccache xz-utils rsync \
	kexec-tools sparse coccinelle ocaml-nox clang lld llvm device-tree-compiler \
	python3 python3-ply python3-git perl git make gcc libc6-dev >/dev/null

# A private apt configuration in DIR for one SUITE (the host's sources and
# lists stay as they are; nothing is installed through it). (A suite's
# Release file may be past its Valid-Until here.)
private_apt() {
	mkdir -p "$1/state/lists/partial" "$1/cache/archives/partial"
	: >"$1/state/status"
	printf '%s\n' "Dir::Etc::sourcelist \"$1/sources.list\"; Dir::Etc::sourceparts \"-\";" \
		"Dir::State \"$1/state\"; Dir::State::status \"$1/state/status\";" \
		"Dir::Cache \"$1/cache\"; APT::Architectures { \"amd64\"; \"arm64\"; };" \
		"Acquire::Languages \"none\"; APT::Sandbox::User \"root\";" \
		"Acquire::Check-Valid-Until \"false\";" >"$1/apt.conf"
	echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $2 main" \
		>"$1/sources.list"
	APT_CONFIG=$1/apt.conf apt-get update -q >/dev/null
}

# Download Debian packages (arm64 ones named PKG:arm64) through the private
# apt configuration DIR and unpack them into ROOT: unpack_debs DIR ROOT PKG...
unpack_debs() {
	dir=$1 root=$2
	shift 2
	rm -rf "$root" "$dir/debs"
	mkdir -p "$root" "$dir/debs"
	(cd "$dir/debs" && APT_CONFIG=$dir/apt.conf apt-get download -q "$@" >/dev/null)
	for d in "$dir"/debs/*.deb; do
		dpkg-deb -x "$d" "$root"
	done
	# The suites' /usr is merged: base-files, not unpacked here, makes /lib.
	[ -e "$root/lib" ] || ln -s usr/lib "$root/lib"
}

# crash for arm64, with its libraries from the same suite, in a private
# sysroot.
private_apt "$BUILD/apt" "$CRASH_SUITE"
unpack_debs "$BUILD/apt" "$CRASH_ROOT" "crash:arm64=$CRASH_VERSION" libc6:arm64 \
	libgmp10:arm64 libmpfr6:arm64 liblzo2-2:arm64 libsnappy1v5:arm64 libncursesw6:arm64 \
	libtinfo6:arm64 libzstd1:arm64 libstdc++6:arm64 libgcc-s1:arm64
v=$(qemu-aarch64-static -cpu cortex-a72 -L "$CRASH_ROOT" "$CRASH_ROOT/usr/bin/crash" --version) ||
	{ echo "deps: the arm64 crash does not run: $v" >&2; exit 1; }
echo "deps: $(echo "$v" | grep -m1 .)"
echo "deps: $(qemu-system-aarch64 --version | head -n 1)"

# linux-source-7.3 (the mainline series' base) from trixie-backports: the
# .deb alone (Architecture: all), downloaded through its own private apt
# configuration, kept in build/debs/linux-source; make tree unpacks it.
apt=$BUILD/apt-linux
mkdir -p "${LINUX_SOURCE_DEB_7_3%/*}"
if [ ! -f "$LINUX_SOURCE_DEB_7_3" ]; then
	private_apt "$apt" "$LINUX_SOURCE_SUITE_7_3"
	pin="linux-source-7.3=$LINUX_SOURCE_VERSION_7_3"
	APT_CONFIG=$apt/apt.conf apt-cache show "$pin" >/dev/null 2>&1 || {
		cand=$(APT_CONFIG=$apt/apt.conf apt-cache policy linux-source-7.3 | awk '/Candidate:/ {print $2}')
		echo "deps: linux-source-7.3 $LINUX_SOURCE_VERSION_7_3 is gone from $LINUX_SOURCE_SUITE_7_3" \
			"(candidate: $cand); the mainline series is written against it: update lab.conf" >&2
		exit 1
	}
	(cd "${LINUX_SOURCE_DEB_7_3%/*}" && rm -f ./*.deb && APT_CONFIG=$apt/apt.conf apt-get download -q "$pin" >/dev/null)
fi
[ "$(dpkg-deb -f "$LINUX_SOURCE_DEB_7_3" Version)" = "$LINUX_SOURCE_VERSION_7_3" ] ||
	{ echo "deps: $LINUX_SOURCE_DEB_7_3 is not version $LINUX_SOURCE_VERSION_7_3" >&2; exit 1; }
echo "deps: linux-source-7.3 $LINUX_SOURCE_VERSION_7_3 ($LINUX_SOURCE_DEB_7_3)"

# Debian 13's arm64 kexec-tools, the `kexec -p` (kexec_load(2)) of Debian's
# kdump, with the libraries it links (zlib and Xen's), for the lab's guest
# "kexec" (lab/initrd.py copies them into its initramfs).
private_apt "$BUILD/apt-kexec" "$KEXEC_SUITE"
unpack_debs "$BUILD/apt-kexec" "$KEXEC_ROOT" "kexec-tools:arm64=$KEXEC_VERSION" libc6:arm64 \
	zlib1g:arm64 libxenmisc4.20:arm64 libxencall1:arm64 libxenevtchn1:arm64 \
	libxengnttab1:arm64 libxenforeignmemory1:arm64 libxendevicemodel1:arm64 \
	libxentoollog1:arm64 libxentoolcore1:arm64
v=$(qemu-aarch64-static -cpu cortex-a72 -L "$KEXEC_ROOT" "$KEXEC_ROOT/usr/sbin/kexec" --version) ||
	{ echo "deps: the arm64 kexec does not run: $v" >&2; exit 1; }
echo "deps: $v (arm64, for the guest)"

# The newer QEMU (several SMMUs) in its own trixie root, build/qemu-root
# (lab/qemu-root.sh, cached); the host's QEMU above stays the default.
sh "$here/qemu-root.sh"

echo "$DEPS_VERSION" >"$stamp"
echo "deps: done"
