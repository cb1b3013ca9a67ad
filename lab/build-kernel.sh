#!/bin/sh
# Build a kernel configuration, with ccache, one output folder each:
#   base     the pristine Debian source (tag "base"), the lab configuration
#   patched  the series (the tip of branch "series" in $SRC: commit your
#            edits), the lab configuration
#   clang    the series, the lab configuration, built with LLVM=1
#   nocrash  the series, the lab configuration with CONFIG_CRASH_DUMP=n
#   module   the series, the lab configuration with ARM_SMMU_V3=m
#   lint     the series, the lab configuration (for W=1/C=1 builds)
#   perpatch the series, the lab configuration (each patch in turn, make lint)
#   debug-base, debug-patched
#            base or the series, the lab configuration plus the debug
#            fragment (lab/kernel-debug.config: lockdep, KASAN, kmemleak...)
#   linear   the series plus a lab fixture, lab/fixtures/linear-strtab.patch
#            (never part of the series), the lab configuration
# REV=<commit> builds another commit than the configuration's own;
# OUTNAME=NAME puts it in $BUILD/out-NAME instead (e.g. a work branch).
# All build from one checkout, $BUILD/linux-build, switched to the commit:
# with the same source path and CCACHE_NOHASHDIR, a second configuration's
# cold build finds every object whose preprocessed source did not change.
# Output: $BUILD/out-NAME (arch/arm64/boot/Image and vmlinux by default).
# Usage: build-kernel.sh NAME [make arguments], e.g.
#   build-kernel.sh lint W=1 C=1 drivers/iommu/arm/arm-smmu-v3/
# Builds are serialised with a lock: they share the checkout.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.conf"
variant=${1:?usage: build-kernel.sh base|patched|debug-base|debug-patched|clang|nocrash|module|lint [make arguments]}
shift
mkdir -p "$BUILD"
exec 9>"$BUILD/.build.lock"
flock 9
rev=series
extra=
llvm=
fixture=
case $variant in
base) rev=base ;;
patched | lint | perpatch) ;;
linear) fixture=$here/fixtures/linear-strtab.patch ;;
debug-base | debug-patched)
	[ "$variant" = debug-patched ] || rev=base
	extra=$(grep -E '^(CONFIG_|# CONFIG_.* is not set$)' "$here/kernel-debug.config") ;;
clang) llvm=1 ;;
nocrash) extra="# CONFIG_CRASH_DUMP is not set
# CONFIG_PROC_VMCORE is not set
# CONFIG_ARM_SMMU_V3_KDUMP_KUNIT_TEST is not set
# CONFIG_PROC_VMCORE_KUNIT_TEST is not set" ;;
module) extra="CONFIG_MODULES=y
CONFIG_ARM_SMMU_V3=m
CONFIG_ARM_SMMU_V3_KUNIT_TEST=m
CONFIG_ARM_SMMU_V3_KDUMP_KUNIT_TEST=m" ;;
*) echo "build-kernel: unknown configuration $variant" >&2; exit 2 ;;
esac
rev=${REV:-$rev}
if [ "$rev" = series ]; then
	git -C "$SRC" diff --quiet HEAD ||
		echo "build-kernel: warning: $SRC has uncommitted changes; building the committed series" >&2
fi
src=$BUILD/linux-build
if [ ! -d "$src" ]; then
	git -C "$SRC" worktree prune
	git -C "$SRC" worktree add -q --detach "$src" "$rev"
fi
# A fixture is applied for its build alone, and reverted (also when an
# interrupted build left it applied).
git -C "$src" diff --quiet || git -C "$src" checkout -q -- .
[ "$(git -C "$src" rev-parse HEAD)" = "$(git -C "$SRC" rev-parse "$rev")" ] ||
	git -C "$src" checkout -q --detach "$(git -C "$SRC" rev-parse "$rev")"
if [ -n "$fixture" ]; then
	trap 'git -C "$src" checkout -q -- .' EXIT
	git -C "$src" apply "$fixture"
fi
out=$BUILD/out-${OUTNAME:-$variant}
export CCACHE_DIR=${CCACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/smmu-kdump-lab}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G} CCACHE_NOHASHDIR=1
targets=${*:-Image}
start=$(date +%s)
if [ -n "$llvm" ]; then
	set -- -C "$src" O="$out" ARCH=arm64 LLVM=1 CC="ccache clang" -j"$(($(nproc) + 1))"
else
	set -- -C "$src" O="$out" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
		CC="ccache aarch64-linux-gnu-gcc" -j"$(($(nproc) + 1))"
fi

# The configuration: the lab fragment (and, built from the series, the
# lines for the symbols the series adds), with the configuration's own lines
# replacing those for the same symbols.
frag=$out/lab.config
mkdir -p "$out"
symbols() { sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p; s/^\(CONFIG_[A-Z0-9_]*\)=.*/\1/p'; }
drop() { if [ -n "$1" ]; then grep -v -E "^(# )?($(echo $1 | tr ' ' '|'))[= ]"; else cat; fi; }
syms=$(printf '%s\n' "$extra" | symbols)
series_syms=$(grep -v '^#' "$here/kernel-series.config" | symbols)
{
	drop "$syms" <"$here/kernel.config"
	[ "$rev" = base ] || grep -v '^#' "$here/kernel-series.config" | drop "$syms" || true
	if [ "$rev" = base ]; then printf '%s\n' "$extra" | drop "$series_syms" || true; else printf '%s\n' "$extra"; fi
} | grep . >"$frag.new"
mv "$frag.new" "$frag"
# The series' own symbols exist only from the patch that adds them on:
# they are checked at the series tip only.
if [ "$(git -C "$SRC" rev-parse "$rev")" = "$(git -C "$SRC" rev-parse series)" ]; then
	check_syms=
else
	check_syms=$series_syms
fi
# Regenerated every time: the same commit and fragment give the same
# .config, and kbuild rebuilds by per-symbol dependencies, not by .config's
# date; a commit that lacks a symbol of the series must not leave it off
# for the next commit.
make -s "$@" KCONFIG_ALLCONFIG="$frag" allnoconfig
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
done <<EOF
$(drop "$check_syms" <"$frag")
EOF
[ "$bad" = 0 ] || { echo "build-kernel: $variant: required options did not survive olddefconfig" >&2; exit 1; }
echo "build-kernel: $variant $targets at $(git -C "$src" log --oneline -1 | cut -c1-60)"
# shellcheck disable=SC2086 # word-split the make arguments on purpose
make -s "$@" $targets
[ "$targets" != Image ] ||
	ls -l "$out/arch/arm64/boot/Image" "$out/vmlinux" | awk '{print "build-kernel: " $5 " " $9}'
# The series' kselftest, static for the capture initramfs, built through its
# Makefile as a distribution or CI would (it needs no installed headers);
# none, not a stale one, from a commit without it.
st=$src/tools/testing/selftests/iommu test=$out/selftest/arm_smmu_v3_kdump
if [ "$targets" = Image ]; then
	rm -f "$test"
	if [ -f "$st/arm_smmu_v3_kdump.c" ]; then
		mkdir -p "$out/selftest"
		make -s -C "$st" ARCH=arm64 CROSS_COMPILE=aarch64-linux-gnu- \
			OUTPUT="$out/selftest" USERLDFLAGS=-static "$test"
		echo "build-kernel: selftest $test"
	fi
fi
echo "build-kernel: $variant $targets: $(($(date +%s) - start)) s"
