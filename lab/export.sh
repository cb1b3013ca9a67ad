#!/bin/sh
# make export: write the tree's series (base..series) back to patches/ (or
# to the folder given) with git format-patch, cover letter included, and
# rewrite the series file.
# The cover letter's text lives in the branch description of "series"
# (git branch --edit-description series); make tree restores it from
# patches/0000-cover-letter.patch, so export reproduces patches/ exactly.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lab.conf"
dest=${1:-$top/patches}
n=$(git -C "$SRC" rev-list --count base..series)
[ "$n" -gt 0 ] || { echo "export: no commits on series beyond base" >&2; exit 1; }
git -C "$SRC" config branch.series.description >/dev/null ||
	{ echo "export: no cover letter: git -C $SRC branch --edit-description series" >&2; exit 1; }
# The cover letter is signed and dated as the series tip, so that it is
# reproducible, and blob ids are abbreviated to a fixed length (git's
# automatic length depends on the size of the repository).
tip_name=$(git -C "$SRC" log -1 --format=%an series)
tip_mail=$(git -C "$SRC" log -1 --format=%ae series)
tip_date=$(git -C "$SRC" log -1 --format=%ad --date=rfc2822 series)
tmp=$(mktemp -d)
# The identity environment of whoever runs this (a commit made with
# GIT_COMMITTER_NAME set, say) would win over -c user.*: drop it.
unset GIT_AUTHOR_NAME GIT_AUTHOR_EMAIL GIT_COMMITTER_NAME GIT_COMMITTER_EMAIL
GIT_COMMITTER_DATE=$tip_date GIT_AUTHOR_DATE=$tip_date \
	git -C "$SRC" -c user.name="$tip_name" -c user.email="$tip_mail" -c core.abbrev=12 \
	format-patch -q --zero-commit --cover-letter --cover-from-description=subject \
	--no-signature -o "$tmp" base..series
mkdir -p "$dest"
rm -f "$dest"/*.patch
mv "$tmp"/*.patch "$dest/"
rmdir "$tmp"
(cd "$dest" && ls ./*.patch | sed 's|^\./||' | grep -v '^0000-cover-letter' >series)
echo "export: $n patches + cover letter -> $dest"
