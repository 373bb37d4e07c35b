# SPDX-License-Identifier: GPL-2.0
# Shared settings for the VM test bed scripts; sourced, not run.

KPTWATCH_CACHE=${KPTWATCH_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kptwatch}
VM_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TOP_DIR=$(cd "$VM_DIR/../.." && pwd)

die() {
	echo "${0##*/}: $*" >&2
	exit 2
}

log() {
	echo "${0##*/}: $*" >&2
}

# Source package per kernel series; the suite is where Debian carries it.
src_pkg() {
	case "$1" in
	6.12) echo "linux-source-6.12 trixie" ;;
	7.3) echo "linux-source-7.3 trixie-backports" ;;
	*) die "unknown kernel series '$1' (known: 6.12, 7.3)" ;;
	esac
}

# entry_inputs ENTRY: what ENTRY (SERIES[-patched][-debug][-kaslr|
# -nokallsyms]) is built from, without fetching anything: sets series,
# fragments (the config fragments, in order) and patches (the series'
# patches for -patched, else none). Dies on an entry that is no entry.
entry_inputs() {
	local entry=$1 rest patched=0 debug=0 kaslr=0 nokallsyms=0

	series=${entry%%-*}
	rest=${entry#"$series"}
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
	fragments=("$VM_DIR/config/base.config")
	[ $debug = 1 ] && fragments+=("$VM_DIR/config/debug.config")
	[ $kaslr = 1 ] && fragments+=("$VM_DIR/config/kaslr.config")
	[ $nokallsyms = 1 ] && fragments+=("$VM_DIR/config/nokallsyms.config")
	return 0
}

# cache_key SRC FILE...: the cache key of a build of the sources in SRC
# (their Debian version) with these fragments and patches, in this order,
# and this compiler. build-kernel.sh names the build directory with it.
cache_key() {
	local src=$1 f
	shift
	{
		cat "$src/.debian-version"
		for f in "$@"; do
			sha256sum <"$f"
		done
		gcc --version | head -n1
	} | sha256sum | cut -c1-12
}
