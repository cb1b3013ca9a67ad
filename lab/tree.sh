#!/bin/sh
# make tree: unpack Debian's linux-source-6.12 into $SRC, commit it as the
# base (tag "base"), then apply patches/ with git am on branch "series".
# Refuses to touch a tree that has commits beyond the series (your work):
# export them first (make export) or remove $SRC.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.conf"
tarball=/usr/src/linux-source-6.12.tar.xz
[ -f "$tarball" ] || { echo "tree: $tarball missing: run make deps" >&2; exit 1; }

git_src() { git -C "$SRC" -c user.name=lab -c user.email=lab@localhost "$@"; }

# The mainline series' base (issue 15): Debian's linux-source-7.3 (lab.conf),
# unpacked from the .deb make deps downloaded into its own tree $SRC_7_3,
# committed as the base (tag "base"), with branch "series" made from it.
# An existing tree is never touched.
if [ ! -d "$SRC_7_3/.git" ]; then
	deb=$LINUX_SOURCE_DEB_7_3
	[ -f "$deb" ] || { echo "tree: $deb missing: run make deps" >&2; exit 1; }
	echo "tree: unpacking linux-source-7.3 from $deb"
	rm -rf "$SRC_7_3" "$SRC_7_3.tmp"
	mkdir -p "$SRC_7_3.tmp"
	dpkg-deb --fsys-tarfile "$deb" | tar -xOf - ./usr/src/linux-source-7.3.tar.xz | tar -C "$SRC_7_3.tmp" -xJf -
	mv "$SRC_7_3.tmp/linux-source-7.3" "$SRC_7_3"
	rmdir "$SRC_7_3.tmp"
	git_src73() { git -C "$SRC_7_3" -c user.name=lab -c user.email=lab@localhost "$@"; }
	git_src73 init -q -b series
	# Debian's .gitignore ignores the top level: force-add the pristine tree.
	git_src73 add -A -f
	git_src73 commit -q -m "Debian linux-source-7.3 $(dpkg-deb -f "$deb" Version)"
	git_src73 tag base
	# The mainline series (patches/mainline), not yet built by the lab
	# (issue 15): applied so that the tree is the series.
	# shellcheck disable=SC2046 # patch names carry no spaces
	git_src73 am -q $(grep -v '^#' "$top/patches/mainline/series" | grep . |
		sed "s|^|$top/patches/mainline/|")
	echo "tree: $SRC_7_3 at $(git_src73 log --oneline -1)"
fi

if [ ! -d "$SRC/.git" ]; then
	echo "tree: unpacking $tarball"
	rm -rf "$SRC" "$SRC.tmp"
	mkdir -p "$SRC.tmp"
	tar -C "$SRC.tmp" -xf "$tarball"
	mv "$SRC.tmp/linux-source-6.12" "$SRC"
	rmdir "$SRC.tmp"
	git_src init -q -b series
	# Debian's .gitignore ignores the top level: force-add the pristine tree.
	git_src add -A -f
	ver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || echo unknown)
	git_src commit -q -m "Debian linux-source-6.12 $ver"
	git_src tag base
fi

# Is the tree exactly base + patches/? Compare patch-ids, so that a tree
# someone is editing is never reset under them.
want=$(grep -v '^#' "$top/patches/series" | grep -c . || true)
have=$(git_src rev-list --count base..series)
if [ "$have" -gt 0 ] && [ "$(git_src rev-parse series)" != "$(git_src rev-parse HEAD)" ]; then
	echo "tree: $SRC is not on branch series; leaving it alone" >&2
	exit 1
fi
if [ "$have" -gt 0 ]; then
	tmp=$(mktemp -d)
	git_src format-patch -q -o "$tmp" base..series
	a=$(cat "$tmp"/*.patch | git patch-id --stable | awk '{print $1}' | sort)
	b=$(grep -v '^#' "$top/patches/series" | sed "s|^|$top/patches/|" | xargs cat | git patch-id --stable | awk '{print $1}' | sort)
	rm -rf "$tmp"
	if [ "$a" = "$b" ]; then
		echo "tree: $SRC already holds the series ($have patches)"
		exit 0
	fi
	echo "tree: $SRC holds $have commits that differ from patches/; export or remove them first" >&2
	exit 1
fi
git_src checkout -q series
git_src reset -q --hard base
if [ "$want" -gt 0 ]; then
	echo "tree: applying $want patches"
	# shellcheck disable=SC2046 # patch names carry no spaces
	git_src am -q $(grep -v '^#' "$top/patches/series" | grep . | sed "s|^|$top/patches/|")
fi
# The cover letter's subject and text become the branch description that
# make export writes back.
cover=$top/patches/0000-cover-letter.patch
if [ -f "$cover" ]; then
	git_src config branch.series.description "$(awk '
		!hdr && /^Subject: / { sub(/^Subject: \[PATCH[^]]*\] */, ""); subj = $0; insub = 1; next }
		!hdr && insub && /^ / { sub(/^ /, " "); subj = subj $0; next }
		!hdr && /^$/ { hdr = 1; print subj; print ""; next }
		!hdr { insub = 0; next }
		/^[^ ].* \([0-9]+\):$/ { exit }
		{ print }' "$cover" | sed -e :a -e '/^\n*$/{$d;N;ba' -e '}')"
fi
echo "tree: $SRC at $(git_src log --oneline -1)"
