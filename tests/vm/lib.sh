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
