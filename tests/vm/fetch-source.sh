#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# fetch-source.sh SERIES: download Debian's linux-source-SERIES package and
# extract it once into the cache; print the source directory.
#
# The host's apt is set up for bookworm only, and the kernels live in trixie
# and trixie-backports. Rather than touching the system's sources, use a
# private apt state directory whose sources list reuses the archive URI the
# host already trusts.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

series=${1:?usage: fetch-source.sh SERIES}
read -r pkg suite <<<"$(src_pkg "$series")"

apt_dir=$KPTWATCH_CACHE/apt
src_root=$KPTWATCH_CACHE/src
mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$src_root"

archive_uri() {
	local f
	# deb822 sources first, then the one-line format.
	for f in /etc/apt/sources.list.d/*.sources; do
		[ -r "$f" ] || continue
		awk '/^URIs:/ { u = $2 } /^Suites:/ && u != "" && $0 !~ /-security/ { print u; exit }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -r "$f" ] || continue
		awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' "$f"
	done
}

uri=$(archive_uri | head -n1)
[ -n "$uri" ] || die "no Debian archive URI in the host's apt sources; set one up or extract $pkg into $src_root by hand"

cat >"$apt_dir/sources.list" <<SRC
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie main
deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri trixie-backports main
SRC
: >"$apt_dir/status"

apt_opts=(
	-o "Dir::State=$apt_dir"
	-o "Dir::State::Lists=$apt_dir/lists"
	-o "Dir::State::status=$apt_dir/status"
	-o "Dir::Cache=$apt_dir"
	-o "Dir::Cache::archives=$apt_dir/archives"
	-o "Dir::Etc::SourceList=$apt_dir/sources.list"
	-o "Dir::Etc::SourceParts=/dev/null"
	-o "APT::Default-Release="
	-o "Debug::NoLocking=1"
	-o "APT::Sandbox::User=root"
)

# The lists are refreshed once a day at most: a cached tree is keyed by the
# package version, so a newer upload simply lands beside it.
if [ -z "$(find "$apt_dir/lists" -maxdepth 1 -name '*Packages*' -mmin -1440 2>/dev/null)" ]; then
	log "updating private apt lists from $uri"
	apt-get "${apt_opts[@]}" -qq update >&2 || die "apt-get update failed for trixie from $uri"
fi

ver=$(apt-cache "${apt_opts[@]}" policy "$pkg" | awk '/Candidate:/ { print $2 }')
{ [ -n "$ver" ] && [ "$ver" != "(none)" ]; } || die "$pkg not found in $suite"

dest=$src_root/$pkg-$ver
if [ -f "$dest/.extracted" ]; then
	echo "$dest"
	exit 0
fi

log "downloading $pkg $ver"
(cd "$apt_dir/archives" && apt-get "${apt_opts[@]}" -qq download "$pkg=$ver" >&2) ||
	die "download of $pkg $ver failed"
deb=$(ls "$apt_dir/archives/${pkg}_"*"${ver##*:}"*.deb | head -n1)

tmp=$(mktemp -d "$src_root/.extract.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
log "extracting $deb"
dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$tmp" --wildcards './usr/src/*.tar.*'
tarball=$(ls "$tmp"/usr/src/*.tar.* | head -n1)
mkdir -p "$tmp/tree"
tar -xf "$tarball" -C "$tmp/tree" --strip-components=1
echo "$ver" >"$tmp/tree/.debian-version"
rm -rf "$dest"
mv "$tmp/tree" "$dest"
touch "$dest/.extracted"
rm -f "$deb"
echo "$dest"
