#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# scripts/kptwatch.bash-completion: sourced into this shell, _kptwatch is
# called with COMP_WORDS/COMP_CWORD as bash would set them (bash splits
# "--max=x" and "enq_to_free=1ms" at "=", COMP_WORDBREAKS) and COMPREPLY is
# compared with what it must offer. Its lists of commands, options per
# command and --max metrics must be the ones kptwatch --help (and
# kptwatch CMD --help) gives.
#
# Environment: KPTWATCH_BUILD (build directory, default build).
set -u
B=${KPTWATCH_BUILD:-build}
K=$B/kptwatch
C=scripts/kptwatch.bash-completion
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "  $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

# shellcheck source=../../scripts/kptwatch.bash-completion
. "$C" || { nok "source $C"; exit 1; }
complete -p kptwatch | grep -q -- '-F _kptwatch' && ok "complete -F _kptwatch kptwatch" ||
	nok "registered" "$(complete -p kptwatch 2>&1)"

# comp WORD... : complete the last WORD (may be ""), print the sorted offers
comp() {
	COMP_WORDS=("$@")
	COMP_CWORD=$(($# - 1))
	COMP_LINE="$*"
	COMP_POINT=${#COMP_LINE}
	COMPREPLY=()
	_kptwatch kptwatch "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
	printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ' | sed 's/ $//'
}
# expect "WANTED" WORD...: the offers are exactly WANTED (sorted, spaces)
expect() {
	local want=$1 got
	shift
	got=$(comp "$@")
	[ "$got" = "$want" ] && ok "'$*' -> ${want:-nothing}" || nok "'$*'" "wanted: $want" "got:    $got"
}
# offers "WORD" WORD...: the offers include WORD
offers() {
	local want=$1 got
	shift
	got=" $(comp "$@") "
	[[ $got == *" $want "* ]] && ok "'$*' offers $want" || nok "'$*' offers $want" "got: $got"
}

expect "check hist probe trace" kptwatch ""
expect "check" kptwatch ch
expect "check" kptwatch -v ch
expect "--max --max-pending --max-pending-age" kptwatch check --max
expect "--max-pending" kptwatch hist --max
expect "" kptwatch probe --max
expect "drain= enq_to_drain= enq_to_free= inval=" kptwatch check --max ""
expect "enq_to_drain= enq_to_free=" kptwatch check --max enq
expect "enq_to_free=" kptwatch check -d 1s --max enq_to_f
expect "drain= enq_to_drain= enq_to_free= inval=" kptwatch check --max = ""
expect "inval=" kptwatch check --max = inv
expect "" kptwatch check --max enq_to_free = ""
expect "--interval" kptwatch hist -i 1s --max enq_to_free = 1ms --i
expect "--count" kptwatch hist --co
expect "" kptwatch trace --co
expect "--junit" kptwatch check --ju
expect "--openmetrics" kptwatch hist --op
expect "--prom" kptwatch check -d 1s --pr
expect "" kptwatch trace --pr
offers /tmp kptwatch hist --prom /tm
offers /tmp kptwatch check --openmetrics = /tm
expect "--" kptwatch check --prom x.prom ""
expect "--" kptwatch check ""
expect "" kptwatch hist ""
expect "" kptwatch check -c ""
offers true kptwatch check -- tru
offers --json kptwatch probe --
offers /tmp kptwatch check --junit /tm
offers /tmp kptwatch --btf = /tm
expect "--help" kptwatch trace --he
offers -c kptwatch hist -i 1s -c 2 -d 5s -

# --- the lists match kptwatch's help ---
if [ ! -x "$K" ]; then
	skip "lists match --help" "no $K (run make)"
	exit 0
fi
help=$("$K" --help)
hopts() { sed -n '/^Options:/,/^$/p' | grep -oE '^ +(-[A-Za-z], )?--[a-z][a-z-]*' | tr -d ',' |
	tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'; }
sorted() { tr ' ' '\n' | sed '/^$/d' | sort -u | tr '\n' ' ' | sed 's/ $//'; }

cmds=$(sed -n '/^Commands:/,/^$/p' <<<"$help" | sed -n 's/^  \([a-z][a-z]*\)\( .*\)\{0,1\}$/\1/p' | sorted)
[ -n "$cmds" ] && [ "$cmds" = "$(sorted <<<"$_kptwatch_commands")" ] &&
	ok "commands as --help: $cmds" || nok "commands" "help: $cmds" "completion: $_kptwatch_commands"

metrics=$(sed -n '/--max METRIC/,/^      --max-pending-age/p' <<<"$help" | tr '\n' ' ' |
	sed -e 's/.*METRIC is//' -e 's/--max-pending-age.*//' | tr -s ' ,' '\n' | grep -vx 'or' | sorted)
[ -n "$metrics" ] && [ "$metrics" = "$(sorted <<<"$_kptwatch_metrics")" ] &&
	ok "--max metrics as --help: $metrics" || nok "metrics" "help: $metrics" "completion: $_kptwatch_metrics"

all=$(hopts <<<"$help")
union=$(sorted <<<"$_kptwatch_opts_all $_kptwatch_opts_probe $_kptwatch_opts_trace $_kptwatch_opts_hist $_kptwatch_opts_check")
[ -n "$all" ] && [ "$all" = "$union" ] && ok "options as --help" ||
	nok "options as --help" "help:       $all" "completion: $union"

for c in $cmds; do
	h=$("$K" "$c" --help 2>/dev/null)
	if [[ $h != "Usage: kptwatch $c "* ]]; then
		skip "$c options as '$c --help'" "no per-command help in $K"
		continue
	fi
	v=_kptwatch_opts_$c
	mine=$(sorted <<<"$_kptwatch_opts_all ${!v}")
	theirs=$(hopts <<<"$h")
	[ "$mine" = "$theirs" ] && ok "$c options as '$c --help'" ||
		nok "$c options as '$c --help'" "help:       $theirs" "completion: $mine"
done
