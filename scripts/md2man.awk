#!/usr/bin/awk -f
# SPDX-License-Identifier: GPL-2.0
#
# md2man.awk: docs/kptwatch.8.md to a roff man page (man(7) + tbl).
#
#   awk -v version=VERSION -v date=YYYY-MM-DD -f scripts/md2man.awk FILE.md
#
# Handles exactly the markdown the man page uses, and refuses the rest with
# "FILE:LINE: unsupported markdown" (exit 1), so that a construct it does
# not know fails the build instead of rendering wrong:
#
#   # name(SECTION)            the title (first line)       -> .TH
#   ## HEADING / ### Heading    sections / subsections      -> .SH / .SS
#   paragraphs, blank-line separated                        -> .PP
#   four-space indented blocks  literal                     -> .nf/.fi
#   TERM line, then ": text" and "  continuation" lines     -> .TP
#   "- item" bullet lists (continuation indented 2)         -> .IP \(bu
#   | a | b | tables with a |---| separator row             -> tbl
#   inline `code` (bold), **bold**, *italic*, [text](url)
#
# In the NAME section "name - summary" becomes "name \- summary" (what
# whatis and apropos read). Dashes in code are \- (ASCII on every device);
# in code and table cells "_" and "," get a zero-width break point so that
# long identifiers can wrap in a narrow table column.

function fail(msg) {
	printf "%s:%d: %s\n", FILENAME, cur, msg > "/dev/stderr"
	failed = 1
	exit 1
}

# roff text escapes for a piece of plain text
function esc(s) {
	gsub(/\\/, "\\e", s)
	return s
}

# literal text (code span or block): backslash and dash
function lit(s) {
	gsub(/\\/, "\\e", s)
	gsub(/-/, "\\-", s)
	return s
}

# inline markup of one line of text; incell adds break points
function inline(s, incell,    out, i, c, j, t, rest) {
	out = ""
	while (length(s) > 0) {
		c = substr(s, 1, 1)
		if (c == "`") {
			rest = substr(s, 2)
			j = index(rest, "`")
			if (j == 0)
				fail("unclosed ` in: " s)
			t = lit(substr(rest, 1, j - 1))
			if (incell) {
				gsub(/_/, "_\\:", t)
				gsub(/,/, ",\\:", t)
			}
			out = out "\\fB" t "\\fR"
			s = substr(rest, j + 1)
		} else if (substr(s, 1, 2) == "**") {
			rest = substr(s, 3)
			j = index(rest, "**")
			if (j == 0)
				fail("unclosed ** in: " s)
			out = out "\\fB" inline(substr(rest, 1, j - 1), incell) "\\fR"
			s = substr(rest, j + 2)
		} else if (c == "*" && substr(s, 2, 1) != " " && index(substr(s, 2), "*") > 0) {
			rest = substr(s, 2)
			j = index(rest, "*")
			out = out "\\fI" inline(substr(rest, 1, j - 1), incell) "\\fR"
			s = substr(rest, j + 1)
		} else if (c == "[" && match(s, /^\[[^]]*\]\([^)]*\)/)) {
			t = substr(s, 2, RLENGTH - 1)
			s = substr(s, RLENGTH + 1)
			j = index(t, "](")
			out = out inline(substr(t, 1, j - 1), incell) " <" esc(substr(t, j + 2, length(t) - j - 2)) ">"
		} else {
			# plain run up to the next markup character
			if (match(s, /[`*[]/) && RSTART > 1) {
				t = substr(s, 1, RSTART - 1)
				s = substr(s, RSTART)
			} else if (RSTART == 1) {
				t = c
				s = substr(s, 2)
			} else {
				t = s
				s = ""
			}
			out = out esc(t)
		}
	}
	return out
}

# a roff text line: a leading . or ' would be a request
function text(s) {
	sub(/^[ \t]+/, "", s)
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}

# split a table row into cells[1..n], backquote-aware; returns n
function cells(row, cell,    n, i, c, inq, cur_) {
	sub(/^[ \t]*\|/, "", row)
	sub(/\|[ \t]*$/, "", row)
	n = 0
	cur_ = ""
	inq = 0
	for (i = 1; i <= length(row); i++) {
		c = substr(row, i, 1)
		if (c == "`")
			inq = !inq
		if (c == "|" && !inq) {
			cell[++n] = cur_
			cur_ = ""
		} else {
			cur_ = cur_ c
		}
	}
	cell[++n] = cur_
	for (i = 1; i <= n; i++) {
		sub(/^[ \t]+/, "", cell[i])
		sub(/[ \t]+$/, "", cell[i])
	}
	return n
}

function table(first, last,    i, n, ncol, k, cell, fmt, head) {
	ncol = cells(L[first], cell)
	if (first + 1 > last || L[first + 1] !~ /^[ \t]*\|[-:| \t]+\|[ \t]*$/) {
		cur = first + 1
		fail("table without a |---| separator row")
	}
	print ".TS"
	# nokeep: groff 1.22's keeps leave blank lines before tall text-block rows
	print "tab(\t) nokeep;"
	head = ""
	fmt = ""
	for (k = 1; k <= ncol; k++) {
		head = head (k > 1 ? " " : "") "lb"
		fmt = fmt (k > 1 ? " " : "") (k == ncol ? "lx" : "l")
	}
	print head
	print fmt "."
	for (i = first; i <= last; i++) {
		if (i == first + 1)
			continue
		cur = i
		n = cells(L[i], cell)
		if (n != ncol)
			fail("table row has " n " cells, the header " ncol)
		line = ""
		for (k = 1; k <= n; k++)
			line = line (k > 1 ? "\t" : "") "T{\n" text(inline(cell[k], 1)) "\nT}"
		print line
		if (i == first)
			print "_"
	}
	print ".TE"
}

{ L[NR] = $0 }

END {
	if (failed)
		exit 1
	n = NR
	cur = 1
	if (L[1] !~ /^# [A-Za-z0-9_.-]+\([0-9][a-z]*\)$/)
		fail("the first line must be '# name(SECTION)'")
	name = L[1]
	sub(/^# /, "", name)
	sect = name
	sub(/.*\(/, "", sect)
	sub(/\)$/, "", sect)
	sub(/\(.*/, "", name)
	# tbl must run: man(1) reads this first line
	print "'\\\" t"
	print ".\\\" Generated from " FILENAME " by scripts/md2man.awk; do not edit."
	printf ".TH %s %s \"%s\" \"%s %s\" \"System Administration\"\n", toupper(name), sect, date, name, version
	print ".nh"
	print ".ad l"

	section = ""
	need_pp = 0	# a paragraph break is due before the next text
	i = 2
	while (i <= n) {
		cur = i
		l = L[i]
		if (l ~ /^[ \t]*$/) {
			need_pp = !headed
			i++
			continue
		}
		if (l ~ /^## /) {
			section = substr(l, 4)
			print ".SH " toupper(section)
			need_pp = 0
			headed = 1
			i++
			continue
		}
		if (l ~ /^### /) {
			print ".SS " substr(l, 5)
			need_pp = 0
			headed = 1
			i++
			continue
		}
		headed = 0
		if (l ~ /^#/)
			fail("unsupported heading (only ## and ###): " l)
		if (l ~ /^```/ || l ~ /^[ \t]*>/ || l ~ /^[ \t]*[0-9]+\. / || l ~ /^[ \t]*[*+] / || l ~ /^</)
			fail("unsupported markdown: " l)
		if (l ~ /^    /) {
			# literal block, up to the next non-indented non-blank line
			j = i
			while (j <= n && (L[j] ~ /^    / || L[j] ~ /^[ \t]*$/))
				j++
			while (j > i && L[j - 1] ~ /^[ \t]*$/)
				j--
			if (need_pp)
				print ".PP"
			indent = toupper(section) != "SYNOPSIS"
			if (indent)
				print ".RS 4"
			print ".nf"
			for (k = i; k < j; k++) {
				t = substr(L[k], 5)
				print text_lit(t)
			}
			print ".fi"
			if (indent)
				print ".RE"
			need_pp = 1
			i = j
			continue
		}
		if (l ~ /^[ \t]*\|/) {
			j = i
			while (j <= n && L[j] ~ /^[ \t]*\|/)
				j++
			if (need_pp)
				print ".PP"
			table(i, j - 1)
			need_pp = 1
			i = j
			continue
		}
		if (l ~ /^- /) {
			# bullet list item with its indented continuation
			print ".IP \\(bu 2"
			print text(inline(substr(l, 3), 0))
			i++
			while (i <= n && L[i] ~ /^  [^ ]/) {
				cur = i
				print text(inline(L[i], 0))
				i++
			}
			need_pp = 1
			continue
		}
		if (l ~ /^: /)
			fail("': ' definition without a term line before it")
		if (i < n && L[i + 1] ~ /^: /) {
			# definition: TERM, ": text", "  more text"
			print ".TP"
			print text(inline(l, 0))
			cur = i + 1
			print text(inline(substr(L[i + 1], 3), 0))
			i += 2
			while (i <= n && L[i] ~ /^  [^ ]/) {
				cur = i
				print text(inline(L[i], 0))
				i++
			}
			need_pp = 1
			continue
		}
		# a plain paragraph line
		if (need_pp) {
			print ".PP"
			need_pp = 0
		}
		t = text(inline(l, 0))
		if (toupper(section) == "NAME")
			sub(/ - /, " \\- ", t)
		print t
		i++
	}
}

# a line of a literal block: no fill, so leading blanks are kept
function text_lit(s) {
	s = lit(s)
	if (s ~ /^[.']/)
		s = "\\&" s
	return s
}
