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
		sed -n '4,17p' "$0" | sed 's/^# \{0,1\}//'
		exit 0
		;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 1 ] || die "usage: build-kernel.sh [--patch FILE]... ENTRY"
entry=$1

series=${entry%%-*}
rest=${entry#"$series"}
patched=0
debug=0
kaslr=0
nokallsyms=0
case "$rest" in
*-kaslr) kaslr=1 rest=${rest%-kaslr} ;;
*-nokallsyms) nokallsyms=1 rest=${rest%-nokallsyms} ;;
esac
case "$rest" in
"") ;;
-patched) patched=1 ;;
-debug) debug=1 ;;
-patched-debug) patched=1 debug=1 ;;
*) die "unknown matrix entry '$entry' (SERIES[-patched][-debug][-kaslr|-nokallsyms])" ;;
esac
# debug.config's PROVE_LOCKING selects LOCKDEP, which selects KALLSYMS_ALL
[ $debug = 1 ] && [ $nokallsyms = 1 ] &&
	die "$entry: -nokallsyms does not go with -debug (LOCKDEP selects KALLSYMS_ALL)"
src_pkg "$series" >/dev/null

patches=()
if [ $patched = 1 ]; then
	shopt -s nullglob
	patches=("$TOP_DIR"/patches/linux-"$series"/*.patch)
	shopt -u nullglob
	[ ${#patches[@]} -gt 0 ] || die "$entry: patches/linux-$series/ holds no series yet"
fi
patches+=("${extra[@]}")

fragments=("$VM_DIR/config/base.config")
[ $debug = 1 ] && fragments+=("$VM_DIR/config/debug.config")
[ $kaslr = 1 ] && fragments+=("$VM_DIR/config/kaslr.config")
[ $nokallsyms = 1 ] && fragments+=("$VM_DIR/config/nokallsyms.config")

src=$("$VM_DIR/fetch-source.sh" "$series")
key=$({
	cat "$src/.debian-version"
	for f in "${fragments[@]}" "${patches[@]}"; do
		sha256sum <"$f"
	done
	gcc --version | head -n1
} | sha256sum | cut -c1-12)

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

t0=$(date +%s)
rm -rf "$dir/src" "$dir/obj"
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

# Relative paths under one base directory and no cwd in the hash: that is
# what lets ccache serve the vanilla objects to the patched tree.
export CCACHE_BASEDIR=$dir CCACHE_NOHASHDIR=1
export CCACHE_DIR=${CCACHE_DIR:-$KPTWATCH_CACHE/ccache}
export CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-20G}
kmake=(make -C "$dir/src" O=../obj -j"$(nproc)" CC="ccache gcc" HOSTCC="ccache gcc")

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

t1=$(date +%s)
echo "$((t1 - t0))" >"$dir/build-seconds"
log "$entry: built in $((t1 - t0)) s"
touch "$dir/.built"
echo "$dir"
