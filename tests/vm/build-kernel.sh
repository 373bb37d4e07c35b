#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh [--patch FILE]... ENTRY
#
# Build one kernel of the test-bed matrix and print its build directory
# (bzImage at obj/arch/x86/boot/bzImage, obj/ usable as M= target for
# out-of-tree modules).
#
# ENTRY is SERIES[-patched][-debug][-kaslr|-nokallsyms], SERIES one of 6.12,
# 7.3. "-patched" applies patches/linux-SERIES/*.patch in order, "-debug"
# adds config/debug.config, "-kaslr" config/kaslr.config, "-nokallsyms"
# config/nokallsyms.config (KASLR, KALLSYMS_ALL off); --patch applies more
# files on top (a seeded bug for a mutant kernel). The cache key covers the source
# version, every patch applied and the config fragments, so an unchanged
# entry is never rebuilt; ccache makes a patched tree reuse the objects of
# its vanilla twin.
#
# A mutant (--patch) whose ENTRY is cached is built incrementally: a copy of
# ENTRY's finished tree, the extra patches, make. Only what they touch is
# compiled again, then vmlinux is linked; without a cached ENTRY it is a
# full build. KPTWATCH_FULL_BUILD=1 forces the full build.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

extra=()
while [ $# -gt 0 ]; do
	case "$1" in
	--patch)
		[ $# -ge 2 ] || die "--patch needs a file"
		[ -r "$2" ] || die "--patch $2: no such file"
		extra+=("$(cd "$(dirname "$2")" && pwd)/$(basename "$2")")
		shift 2
		;;
	-h | --help)
		sed -n '4,22p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || die "usage: build-kernel.sh [--patch FILE]... ENTRY"
entry=$1

entry_inputs "$entry"
base_patches=("${patches[@]}")
patches+=("${extra[@]}")

src=$("$VM_DIR/fetch-source.sh" "$series")
key=$(cache_key "$src" "${fragments[@]}" "${patches[@]}")

name=$entry
[ ${#extra[@]} -gt 0 ] && name=$entry+mut
dir=$KPTWATCH_CACHE/build/$name-$key
mkdir -p "$dir"
exec 9>"$dir/.lock"
flock 9

if [ -f "$dir/.built" ]; then
	log "$entry: cached in $dir"
	echo "$dir"
	exit 0
fi

# Relative paths under one base directory and no cwd in the hash: that is
# what lets ccache serve the vanilla objects to the patched tree.
export CCACHE_BASEDIR=$dir CCACHE_NOHASHDIR=1
export CCACHE_DIR=${CCACHE_DIR:-$KPTWATCH_CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
kmake=(make -C "$dir/src" O=../obj -j"$(nproc)" CC="ccache gcc" HOSTCC="ccache gcc")

# finish T0: record the build time, mark the entry built, print its directory
finish() {
	local t1
	t1=$(date +%s)
	echo "$((t1 - $1))" >"$dir/build-seconds"
	log "$name: built in $((t1 - $1)) s"
	touch "$dir/.built"
	echo "$dir"
	exit 0
}

t0=$(date +%s)
rm -rf "$dir/src" "$dir/obj"

# --- a mutant from a copy of its cached base ---
base_dir=
if [ ${#extra[@]} -gt 0 ] && [ "${KPTWATCH_FULL_BUILD:-0}" != 1 ]; then
	base_dir=$KPTWATCH_CACHE/build/$entry-$(cache_key "$src" "${fragments[@]}" "${base_patches[@]}")
	[ -f "$base_dir/.built" ] || {
		log "$entry: $base_dir is not built: full build"
		base_dir=
	}
fi
if [ -n "$base_dir" ]; then
	# A shared lock: the base may be read by several mutant builds at once,
	# and nobody rebuilds it meanwhile (its builder locks it exclusively).
	exec 8>>"$base_dir/.lock"
	flock -s 8
	log "$entry: incremental build from $base_dir"
	# src/ is hard-linked: patch(1) writes a file it changes anew and
	# renames it over the old name (GNU patch does; checked below), so the
	# base's files keep their contents. obj/ is a real copy: the compiler
	# and the linker rewrite files in place.
	cp -al "$base_dir/src" "$dir/src"
	cp -a "$base_dir/obj" "$dir/obj"
	cp -a "$base_dir/fragment.config" "$dir/fragment.config"
	exec 8>&-
	for p in "${extra[@]}"; do
		log "$entry: applying ${p#"$TOP_DIR"/}"
		patch -d "$dir/src" -p1 --quiet --forward <"$p" || die "$entry: $p does not apply"
		# patch must not have written through a hard link into the base
		sed -n 's,^+++ [^/]*/\([^	 ]*\).*,\1,p' "$p" | while IFS= read -r f; do
			[ -e "$base_dir/src/$f" ] && [ -e "$dir/src/$f" ] || continue
			[ "$(stat -c %i "$base_dir/src/$f")" != "$(stat -c %i "$dir/src/$f")" ] ||
				die "$entry: patch changed $f in place, through the hard link into $base_dir"
		done
	done
	# The base was built in another directory: kbuild saved its commands
	# and dependencies with absolute paths (.cmd files; obj/Makefile and
	# obj/source are written anew by every make). Point them here, so that
	# make compares the same commands and finds what changed by its time.
	grep -rlF --include='*.cmd' "$base_dir/" "$dir/obj" | xargs -r -d '\n' sed -i "s|$base_dir/|$dir/|g"
	log "$entry: building bzImage and modules (log: $dir/build.log)"
	"${kmake[@]}" bzImage modules >"$dir/build.log" 2>&1 ||
		{ tail -n 30 "$dir/build.log" >&2; die "$entry: build failed, see $dir/build.log"; }
	echo "$base_dir" >"$dir/base"
	finish "$t0"
fi

log "$entry: preparing tree in $dir"
cp -a "$src" "$dir/src"
for p in "${patches[@]}"; do
	log "$entry: applying ${p#"$TOP_DIR"/}"
	patch -d "$dir/src" -p1 --quiet --forward <"$p" || die "$entry: $p does not apply"
done

mkdir -p "$dir/obj"
# A later fragment may turn off what base.config turns on (-nokallsyms:
# KALLSYMS_ALL): keep each option's last setting only, so that kconfig and
# the check below see one value.
awk '{ k = "" }
	/^CONFIG_[A-Z0-9_]+=/ { k = substr($0, 1, index($0, "=") - 1) }
	/^# CONFIG_[A-Z0-9_]+ is not set$/ { k = $2 }
	{ line[NR] = $0; key[NR] = k; if (k != "") last[k] = NR }
	END { for (i = 1; i <= NR; i++) if (key[i] == "" || last[key[i]] == i) print line[i] }' \
	"${fragments[@]}" >"$dir/fragment.config"

log "$entry: configuring (allnoconfig + ${fragments[*]##*/})"
"${kmake[@]}" -s KCONFIG_ALLCONFIG="$dir/fragment.config" allnoconfig >"$dir/build.log" 2>&1 ||
	die "$entry: allnoconfig failed, see $dir/build.log"
# An option the tree does not define at all (7.x dropped PROC_SYSCTL, it is
# always there) is noted; one that exists but did not stick is an error.
missing=$(grep -E '^CONFIG_[A-Z0-9_]+=' "$dir/fragment.config" | while IFS= read -r line; do
	grep -qxF "$line" "$dir/obj/.config" && continue
	sym=${line%%=*}
	if grep -rqsE "^(menu)?config ${sym#CONFIG_}\$" --include='Kconfig*' "$dir/src"; then
		echo "$sym"
	else
		log "$entry: $sym is not defined in this tree, ignored"
	fi
done)
# and an option a fragment turns off must be off
while IFS= read -r sym; do
	if grep -q "^$sym=" "$dir/obj/.config"; then
		missing+=" $sym=n"
	fi
done < <(sed -n 's/^# \(CONFIG_[A-Z0-9_]*\) is not set$/\1/p' "$dir/fragment.config")
[ -z "$missing" ] || die "$entry: config options did not stick (unmet dependency?): $(echo $missing)"

log "$entry: building bzImage and modules (log: $dir/build.log)"
"${kmake[@]}" bzImage modules >>"$dir/build.log" 2>&1 ||
	{ tail -n 30 "$dir/build.log" >&2; die "$entry: build failed, see $dir/build.log"; }
finish "$t0"
