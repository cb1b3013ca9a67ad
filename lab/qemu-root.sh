#!/bin/sh
# Build $QEMU_ROOT (build/qemu-root): a minimal amd64 Debian trixie root holding
# a newer QEMU than the host's, from Debian's packages alone, pinned in
# lab.conf (QEMU_ROOT_*): qemu-system-arm, -common and -data from
# trixie-backports, qemu-efi-aarch64 from trixie. Built with mmdebstrap
# (installed from bookworm if missing); the host's apt sources stay as they
# are. Cached: rebuilt only when the pinned versions change.
#
# Run it, with no chroot, through the root's own dynamic loader:
#   build/qemu-root/run-qemu ARGS...   (qemu-system-aarch64 ARGS...)
# It sees host paths as they are, takes its modules and firmware/ROM files from
# the root, and UEFI is build/qemu-root/usr/share/qemu-efi-aarch64/QEMU_EFI.fd.
#
#   sh lab/qemu-root.sh           build if needed
#   sh lab/qemu-root.sh --check   exit 0 if the root is built and current
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.conf"

mirror=http://deb.debian.org/debian
stamp=$BUILD/.qemu-root-done
# What the root is built from (rev: this script's layout of it): a change to
# any of it rebuilds it.
want="suite=$QEMU_ROOT_SUITE qemu=$QEMU_ROOT_VERSION efi=$QEMU_ROOT_EFI_VERSION rev=3"

current() {
	[ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$QEMU_ROOT/run-qemu" ]
}
if [ "${1:-}" = --check ]; then
	current
	exit
fi
if current; then
	echo "qemu-root: up to date ($QEMU_ROOT: $want)"
	exit 0
fi

t0=$(date +%s)
t=$t0
took() {
	now=$(date +%s)
	echo "qemu-root: $1: $((now - t)) s"
	t=$now
}

# mmdebstrap from bookworm (the host's suite), with fresh lists if need be.
if ! command -v mmdebstrap >/dev/null 2>&1; then
	$SUDO apt-get install -y -q --no-install-recommends mmdebstrap/bookworm >/dev/null 2>&1 ||
		{ $SUDO apt-get update -q >/dev/null &&
			$SUDO apt-get install -y -q --no-install-recommends mmdebstrap/bookworm >/dev/null; }
	took "installed mmdebstrap $(dpkg-query -W -f='${Version}' mmdebstrap)"
fi

# Into a fresh folder beside the old root, swapped in only once complete.
rm -f "$stamp"
new=$QEMU_ROOT.new
$SUDO rm -rf "$new"
mkdir -p "$BUILD"
# essential + the QEMU packages (no apt, no recommends). The AAVMF copies of
# the firmware (six 64 MiB padded images) are left out: QEMU_EFI.fd stays.
# The sid-era Release files may be past their Valid-Until.
$SUDO mmdebstrap --mode=root --variant=essential --arch=amd64 \
	--aptopt='Acquire::Check-Valid-Until "false"' \
	--aptopt='APT::Install-Recommends "false"' \
	--aptopt='Acquire::Languages "none"' \
	--dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/locale/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' \
	--dpkgopt='path-exclude=/usr/share/AAVMF/*' \
	--include="qemu-system-arm=$QEMU_ROOT_VERSION,qemu-system-common=$QEMU_ROOT_VERSION" \
	--include="qemu-system-data=$QEMU_ROOT_VERSION,qemu-efi-aarch64=$QEMU_ROOT_EFI_VERSION" \
	"$QEMU_ROOT_SUITE" "$new" \
	"deb $mirror $QEMU_ROOT_SUITE main" "deb $mirror $QEMU_ROOT_SUITE-backports main" \
	>"$BUILD/qemu-root.log" 2>&1 ||
	{ tail -n 30 "$BUILD/qemu-root.log" >&2; echo "qemu-root: mmdebstrap failed (log: $BUILD/qemu-root.log)" >&2; exit 1; }
took "mmdebstrap $QEMU_ROOT_SUITE"

# The pins, as installed.
for p in qemu-system-arm:$QEMU_ROOT_VERSION qemu-system-common:$QEMU_ROOT_VERSION \
	qemu-system-data:$QEMU_ROOT_VERSION qemu-efi-aarch64:$QEMU_ROOT_EFI_VERSION; do
	v=$(dpkg-query --admindir="$new/var/lib/dpkg" -W -f='${Version}' "${p%%:*}")
	[ "$v" = "${p#*:}" ] || { echo "qemu-root: ${p%%:*} is $v, not ${p#*:}" >&2; exit 1; }
done

# A link in the data folder to an absolute path would name the host's file
# outside a chroot: make any such link relative, inside the root. (trixie's
# ipxe-qemu and qemu-system-data ship none; this keeps it true if they do.)
find "$new/usr/share/qemu" -type l | while read -r l; do
	dest=$(readlink "$l")
	case $dest in
	/*) $SUDO ln -sfr "$new$dest" "$l" ;;
	esac
done

# The wrapper: the root's loader and libraries, its modules (audio, ui...),
# locales and firmware/ROM folders (-L, searched before the built-in paths,
# which would be the host's); no chroot, so host paths are seen as they are.
cat >"$BUILD/run-qemu.tmp" <<'EOF'
#!/bin/sh
# qemu-system-aarch64 from this Debian root (lab/qemu-root.sh), without chroot.
r=$(cd "$(dirname "$0")" && pwd)
QEMU_MODULE_DIR=$r/usr/lib/x86_64-linux-gnu/qemu
LOCPATH=$r/usr/lib/locale
GCONV_PATH=$r/usr/lib/x86_64-linux-gnu/gconv
export QEMU_MODULE_DIR LOCPATH GCONV_PATH
exec "$r/usr/lib64/ld-linux-x86-64.so.2" --library-path "$r/usr/lib/x86_64-linux-gnu" \
	--argv0 qemu-system-aarch64 "$r/usr/bin/qemu-system-aarch64" \
	-L "$r/usr/share/qemu" -L "$r/usr/share/seabios" "$@"
EOF
$SUDO install -m 755 "$BUILD/run-qemu.tmp" "$new/run-qemu"
rm -f "$BUILD/run-qemu.tmp"
v=$("$new/run-qemu" --version) ||
	{ echo "qemu-root: the root's QEMU does not run: $v" >&2; exit 1; }

$SUDO rm -rf "$QEMU_ROOT"
$SUDO mv "$new" "$QEMU_ROOT"
echo "$want" >"$stamp"
took "checked and installed"
echo "qemu-root: $(echo "$v" | head -n 1)"
echo "qemu-root: $QEMU_ROOT: $(du -sh "$QEMU_ROOT" | cut -f1), built in $(($(date +%s) - t0)) s"
