#!/bin/sh
# Build the lab kernel for one variant, with ccache, one output folder each:
#   base     the pristine Debian source (tag "base")
#   patched  the series (the tip of branch "series" in $SRC: commit your edits)
# Both variants build from one checkout, $BUILD/linux-build, switched to the
# variant's commit: with the same source path and CCACHE_NOHASHDIR, the second
# variant's cold build finds nearly every object in ccache.
# Output: $BUILD/out-VARIANT/arch/arm64/boot/Image and vmlinux.
# Usage: build-kernel.sh VARIANT [make arguments], e.g.
#   build-kernel.sh patched W=1 C=1 drivers/iommu/arm/arm-smmu-v3/
# Builds are serialised with a lock: they share the checkout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.conf"
variant=${1:?usage: build-kernel.sh base|patched [make arguments]}
shift
mkdir -p "$BUILD"
exec 9>"$BUILD/.build.lock"
flock 9
case $variant in
base) rev=base ;;
patched)
	rev=series
	git -C "$SRC" diff --quiet HEAD ||
		echo "build-kernel: warning: $SRC has uncommitted changes; building the committed series" >&2
	;;
*) echo "build-kernel: unknown variant $variant" >&2; exit 2 ;;
esac
src=$BUILD/linux-build
if [ ! -d "$src" ]; then
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$src" "$rev"
fi
[ "$(git -C "$src" rev-parse HEAD)" = "$(git -C "$SRC" rev-parse "$rev")" ] ||
	git -C "$src" checkout -q --detach "$rev"
out=$BUILD/out-$variant
mkdir -p "$out"
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smmu-kdump-lab}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G} CCACHE_NOHASHDIR=1
targets=${*:-Image}
set -- -C "$src" O="$out" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
	CC="ccache aarch64-linux-gnu-gcc" -j"$(($(nproc) + 1))"

frag=$here/kernel.config
sum=$(cat "$frag" | sha1sum | cut -c1-40)
if [ ! -f "$out/.config" ] || [ "$(cat "$out/.lab-config" 2>/dev/null)" != "$sum" ]; then
	make -s "$@" KCONFIG_ALLCONFIG="$frag" allnoconfig
	echo "$sum" >"$out/.lab-config"
fi
make -s "$@" olddefconfig
# Every line of the fragment must hold in the final .config.
bad=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) grep -qx "$line" "$out/.config" || { echo "build-kernel: MISSING: $line" >&2; bad=1; } ;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		! grep -q "^$opt=" "$out/.config" || { echo "build-kernel: SET BUT MUST NOT BE: $opt" >&2; bad=1; } ;;
	esac
done <"$frag"
[ "$bad" = 0 ] || { echo "build-kernel: $variant: required options did not survive olddefconfig" >&2; exit 1; }
echo "build-kernel: $variant at $(git -C "$src" log --oneline -1 | cut -c1-60)"
# shellcheck disable=SC2086 # word-split the make arguments on purpose
make -s "$@" $targets
[ "$targets" != Image ] ||
	ls -l "$out/arch/arm64/boot/Image" "$out/vmlinux" | awk '{print "build-kernel: " $5 " " $9}'
