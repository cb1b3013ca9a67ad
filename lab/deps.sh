#!/bin/sh
# Install everything the lab needs, from Debian's packages only. Idempotent.
# QEMU comes from bookworm-backports, for its packages alone: the suite is
# added at apt's default backports priority (nothing else moves) and the
# version is pinned in lab.conf. The arm64 crash binary cannot be installed
# beside the host's binutils, so a newer one (lab.conf) is downloaded through a
# private apt configuration (build/apt: the host's package lists stay as they are) and
# unpacked with its arm64 libraries into a private sysroot, run under
# qemu-aarch64-static -L <sysroot>.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.conf"

stamp="$BUILD/.deps-done"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$DEPS_VERSION" ] && [ -x "$CRASH_ROOT/usr/bin/crash" ] &&
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

# crash for arm64, with its libraries from the same suite, in a private
# sysroot. (The suite's Release file may be past its Valid-Until here.)
apt=$BUILD/apt
mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "$BUILD/debs"
: >"$apt/state/status"
printf '%s\n' "Dir::Etc::sourcelist \"$apt/sources.list\"; Dir::Etc::sourceparts \"-\";" \
	"Dir::State \"$apt/state\"; Dir::State::status \"$apt/state/status\";" \
	"Dir::Cache \"$apt/cache\"; APT::Architectures { \"amd64\"; \"arm64\"; };" \
	"Acquire::Languages \"none\"; APT::Sandbox::User \"root\";" \
	"Acquire::Check-Valid-Until \"false\";" >"$apt/apt.conf"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $CRASH_SUITE main" \
	>"$apt/sources.list"
APT_CONFIG=$apt/apt.conf apt-get update -q >/dev/null
rm -rf "$CRASH_ROOT"
mkdir -p "$CRASH_ROOT"
cd "$BUILD/debs"
rm -f ./*.deb
APT_CONFIG=$apt/apt.conf apt-get download -q "crash:arm64=$CRASH_VERSION" libc6:arm64 \
	libgmp10:arm64 libmpfr6:arm64 liblzo2-2:arm64 libsnappy1v5:arm64 libncursesw6:arm64 \
	libtinfo6:arm64 libzstd1:arm64 libstdc++6:arm64 libgcc-s1:arm64 >/dev/null
for d in ./*.deb; do
	dpkg-deb -x "$d" "$CRASH_ROOT"
done
# The suite's /usr is merged: base-files, not unpacked here, makes /lib.
[ -e "$CRASH_ROOT/lib" ] || ln -s usr/lib "$CRASH_ROOT/lib"
v=$(qemu-aarch64-static -cpu cortex-a72 -L "$CRASH_ROOT" "$CRASH_ROOT/usr/bin/crash" --version) ||
	{ echo "deps: the arm64 crash does not run: $v" >&2; exit 1; }
echo "deps: $(echo "$v" | grep -m1 .)"
echo "deps: $(qemu-system-aarch64 --version | head -n 1)"

# linux-source-7.3 (the mainline series' base) from trixie-backports: the
# .deb alone (Architecture: all), downloaded through its own private apt
# configuration (the host's sources and lists stay as they are; nothing is
# installed), kept in build/debs/linux-source (apart from the crash sysroot's
# .debs above); make tree unpacks it.
apt=$BUILD/apt-linux
mkdir -p "$apt/state/lists/partial" "$apt/cache/archives/partial" "${LINUX_SOURCE_DEB_7_3%/*}"
: >"$apt/state/status"
printf '%s\n' "Dir::Etc::sourcelist \"$apt/sources.list\"; Dir::Etc::sourceparts \"-\";" \
	"Dir::State \"$apt/state\"; Dir::State::status \"$apt/state/status\";" \
	"Dir::Cache \"$apt/cache\"; APT::Architectures { \"amd64\"; };" \
	"Acquire::Languages \"none\"; APT::Sandbox::User \"root\";" \
	"Acquire::Check-Valid-Until \"false\";" >"$apt/apt.conf"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $LINUX_SOURCE_SUITE_7_3 main" \
	>"$apt/sources.list"
if [ ! -f "$LINUX_SOURCE_DEB_7_3" ]; then
	APT_CONFIG=$apt/apt.conf apt-get update -q >/dev/null
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

# The newer QEMU (several SMMUs) in its own trixie root, build/qemu-root
# (lab/qemu-root.sh, cached); the host's QEMU above stays the default.
sh "$here/qemu-root.sh"

echo "$DEPS_VERSION" >"$stamp"
echo "deps: done"
