#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make install / make uninstall into a temporary DESTDIR: with PREFIX=/usr
# and with the default PREFIX (/usr/local), exactly the binary (sbin, 0755),
# the man page (share/man/man8, 0644) and the bash completion
# (share/bash-completion/completions/kptwatch) are laid out, man(1) finds
# the page through MANPATH, the installed binary runs, the completion
# sources; uninstall leaves no file behind.
#
# Environment: KPTWATCH_BUILD (build directory, default build).
set -u
B=${KPTWATCH_BUILD:-build}
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "  $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

if [ ! -x "$B/kptwatch" ] || [ ! -f "$B/kptwatch.8" ]; then
	skip install "no $B/kptwatch or $B/kptwatch.8 (run make)"
	exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# run from inside make check: a make of our own, not part of the caller's
mk() { env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make --no-print-directory BUILD="$B" "$@"; }
# files and their modes under a directory, one "MODE PATH" a line
files() { (cd "$1" && find . -type f -printf '%m %P\n' | sort); }

# install_test PREFIX-ARGS... : PREFIX the files should land under
install_test() {
	local prefix=$1 d=$tmp/root$n
	shift
	mkdir -p "$d"
	if ! out=$(mk install DESTDIR="$d" "$@" 2>&1); then
		nok "make install $* DESTDIR=..." "$out"
		return
	fi
	local want got
	want=$(printf '%s\n' "755 ${prefix#/}/sbin/kptwatch" "644 ${prefix#/}/share/bash-completion/completions/kptwatch" \
		"644 ${prefix#/}/share/man/man8/kptwatch.8" | sort)
	got=$(files "$d")
	[ "$got" = "$want" ] && ok "make install $* DESTDIR=...: $(echo $got)" ||
		nok "make install $* DESTDIR=..." "wanted:" "$want" "got:" "$got"

	cmp -s "$d$prefix/sbin/kptwatch" "$B/kptwatch" && "$d$prefix/sbin/kptwatch" --version >/dev/null &&
		ok "installed binary is $B/kptwatch and runs" || nok "installed binary"

	if command -v man >/dev/null; then
		got=$(MANPATH=$d$prefix/share/man man -w kptwatch 2>&1)
		[ "$got" = "$d$prefix/share/man/man8/kptwatch.8" ] && ok "man -w kptwatch finds the page" ||
			nok "man -w kptwatch" "$got"
	else
		skip "man -w kptwatch" "no man(1)"
	fi
	got=$(bash -c ". '$d$prefix/share/bash-completion/completions/kptwatch' && complete -p kptwatch" 2>&1)
	[[ $got == *"-F _kptwatch kptwatch"* ]] && ok "installed completion sources" || nok "completion" "$got"

	if ! out=$(mk uninstall DESTDIR="$d" "$@" 2>&1); then
		nok "make uninstall $* DESTDIR=..." "$out"
		return
	fi
	got=$(files "$d")
	[ -z "$got" ] && ok "make uninstall $* DESTDIR=...: no file left" ||
		nok "make uninstall $* DESTDIR=..." "left: $got"
}

install_test /usr PREFIX=/usr
install_test /usr/local

# an installed file that is not ours stays
d=$tmp/other
mkdir -p "$d/usr/local/sbin"
echo x >"$d/usr/local/sbin/other"
mk uninstall DESTDIR="$d" >/dev/null 2>&1
[ -f "$d/usr/local/sbin/other" ] && ok "uninstall removes only kptwatch's files" ||
	nok "uninstall removes only kptwatch's files"
