#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# The man page: build/kptwatch.8, generated from docs/kptwatch.8.md by
# scripts/md2man.awk (make all), renders without a warning through man(1)
# and groff -ww, has a NAME line whatis/apropos can read, and lists the same
# commands and options as kptwatch --help (each side parsed, the difference
# printed). The converter itself: every construct it supports, and a
# refusal (not wrong output) for markdown it does not.
#
# Environment: KPTWATCH_BUILD (build directory, default build).
set -u
B=${KPTWATCH_BUILD:-build}
K=$B/kptwatch
M=$B/kptwatch.8
n=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "  $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ ! -f "$M" ] || [ ! -x "$K" ]; then
	skip "man page" "no $M or $K (run make)"
	exit 0
fi
if ! command -v groff >/dev/null; then
	skip "man page" "no groff (make deps installs groff-base)"
	exit 0
fi

# plain ASCII text, 80 columns, no overstrike
render() { groff -t -man -Tascii -rLL=80n -rcR=1 -P-cbou "$1" 2>/dev/null; }
# section NAME: the lines of that section of the rendered page
section() { sed -n "/^$1\$/,/^[A-Z]/p" "$tmp/page.txt" | sed '1d;$d'; }
# option words (-x, --long-name) in text on stdin, one per line, sorted
opts() { grep -oE '(^|[^A-Za-z0-9-])--?[A-Za-z][A-Za-z-]*' | sed -E 's/^[^-]+//' | sort -u; }
# lines only in $1 / only in $2, for the message
diffsets() {
	local a b
	a=$(comm -23 "$1" "$2" | tr '\n' ' ')
	b=$(comm -13 "$1" "$2" | tr '\n' ' ')
	echo "only in $3: ${a:-none}" "; only in $4: ${b:-none}"
}

# --- rendering ---
if command -v man >/dev/null; then
	w=$(MANWIDTH=80 man --warnings -l "$M" 2>&1 >/dev/null)
	[ -z "$w" ] && ok "man --warnings -l $M: no warning" || nok "man --warnings -l $M" "$w"
else
	skip "man --warnings" "no man(1)"
fi
w=$(groff -ww -z -t -man "$M" 2>&1)
[ -z "$w" ] && ok "groff -ww: no warning" || nok "groff -ww" "$w"

render "$M" >"$tmp/page.txt"
missing=
for s in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" EXAMPLES; do
	grep -qx "$s" "$tmp/page.txt" || missing="$missing $s"
done
[ -z "$missing" ] && ok "rendered page has its sections" || nok "sections" "missing:$missing"

head -n1 "$tmp/page.txt" | grep -q '^KPTWATCH(8) ' && ok "title KPTWATCH(8)" ||
	nok "title" "$(head -n1 "$tmp/page.txt")"

if command -v lexgrog >/dev/null; then
	w=$(lexgrog "$M" 2>&1)
	[[ $w == *': "kptwatch - '* ]] && ok "lexgrog reads the NAME line" || nok "lexgrog" "$w"
else
	skip "lexgrog" "no man-db"
fi

# every table rendered, none split by blank lines (groff 1.22 keeps)
md_tables=$(grep -c '^|---' docs/kptwatch.8.md)
roff_tables=$(grep -c '^\.TS' "$M")
[ "$md_tables" = "$roff_tables" ] && ok "$roff_tables tables" ||
	nok tables "markdown $md_tables, roff $roff_tables"

# --- the page and --help agree ---
"$K" --help >"$tmp/help.txt"
sed -n '/^Options:/,/^$/p' "$tmp/help.txt" | opts >"$tmp/help.opts"
section OPTIONS | opts >"$tmp/man.opts"
if [ -s "$tmp/help.opts" ] && cmp -s "$tmp/help.opts" "$tmp/man.opts"; then
	ok "--help and the man page list the same $(wc -l <"$tmp/help.opts") options"
else
	nok "--help and the man page list the same options" \
		"$(diffsets "$tmp/help.opts" "$tmp/man.opts" --help "kptwatch(8) OPTIONS")"
fi

sed -n '/^Commands:/,/^$/p' "$tmp/help.txt" | sed -n 's/^  \([a-z][a-z]*\)\( .*\)\{0,1\}$/\1/p' |
	sort -u >"$tmp/help.cmds"
section COMMANDS | sed -n 's/^       \([a-z][a-z]*\)\( .*\)\{0,1\}$/\1/p' | sort -u >"$tmp/man.cmds"
if [ -s "$tmp/help.cmds" ] && cmp -s "$tmp/help.cmds" "$tmp/man.cmds"; then
	ok "--help and the man page list the same commands: $(tr '\n' ' ' <"$tmp/help.cmds")"
else
	nok "--help and the man page list the same commands" \
		"$(diffsets "$tmp/help.cmds" "$tmp/man.cmds" --help "kptwatch(8) COMMANDS")"
fi

# the comparison fails when one side lacks an option
grep -v -- '--kprobes' "$tmp/man.opts" >"$tmp/less.opts"
cmp -s "$tmp/help.opts" "$tmp/less.opts" && nok "a missing option is noticed" ||
	ok "a missing option is noticed ($(diffsets "$tmp/help.opts" "$tmp/less.opts" a b))"

# --- the converter ---
conv() { awk -v version=T -v date=D -f scripts/md2man.awk "$1"; }
cat >"$tmp/all.md" <<'EOF'
# demo(1)

## NAME

demo - a test

## SECTION

.dot line with `--a-b` and **bold** and *it* and 2 * 3 and [text](http://x/y)
and a backslash \n

### Sub

    literal .x --y \z
    .starts with a dot

**term**
: the definition
  continued

- item `one`
  continued
- two

| a | b |
|---|---|
| `x_y,z` | a `p|q` cell |
EOF
if conv "$tmp/all.md" >"$tmp/all.8" 2>"$tmp/all.err"; then
	want=(
		"^'\\\\\" t\$"
		'^\.TH DEMO 1 "D" "demo T" '
		'^demo \\- a test$'
		'^\\&\.dot line with \\fB\\-\\-a\\-b\\fR and \\fBbold\\fR and \\fIit\\fR and 2 \* 3 and text <http://x/y>$'
		'^and a backslash \\en$'
		'^\.SS Sub$'
		'^literal \.x \\-\\-y \\ez$'
		'^\\&\.starts with a dot$'
		'^\.TP$'
		'^\\fBterm\\fR$'
		'^continued$'
		'^\.IP \\\(bu 2$'
		'^item \\fBone\\fR$'
		'^\.TS$'
		'^\\fBx_\\:y,\\:z\\fR$'
		'^a \\fBp|q\\fR cell$'
	)
	bad=
	for re in "${want[@]}"; do
		grep -qE -- "$re" "$tmp/all.8" || bad="$bad [$re]"
	done
	w=$(groff -ww -z -t -man "$tmp/all.8" 2>&1)
	[ -z "$bad" ] && [ -z "$w" ] && ok "md2man: every supported construct" ||
		nok "md2man: every supported construct" "not found:$bad" "$w" "$(cat "$tmp/all.8")"
else
	nok "md2man: every supported construct" "$(cat "$tmp/all.err")"
fi

refuse() {
	local name=$1 body=$2 err
	printf '# x(8)\n\n## A\n\n%b\n' "$body" >"$tmp/bad.md"
	if err=$(conv "$tmp/bad.md" 2>&1 >/dev/null); then
		nok "md2man refuses $name" "accepted: $body"
	elif [[ $err == "$tmp/bad.md:"[0-9]*": "* ]]; then
		ok "md2man refuses $name: ${err#"$tmp/"}"
	else
		nok "md2man refuses $name" "message without FILE:LINE: $err"
	fi
}
refuse "a numbered list" '1. one'
refuse "a fenced block" '```\ncode\n```'
refuse "a table without a separator" '| a | b |\n| c | d |'
refuse "a ragged table" '| a | b |\n|---|---|\n| c |'
refuse "an unclosed code span" 'a `b'
refuse "#### headings" '#### deep'
printf 'no title\n' >"$tmp/bad.md"
conv "$tmp/bad.md" >/dev/null 2>&1 && nok "md2man refuses a page without a title" ||
	ok "md2man refuses a page without a title"
