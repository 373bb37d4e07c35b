# SPDX-License-Identifier: GPL-2.0
#
# A checker for the expositions kptwatch writes (src/openmetrics.c), so
# that they are checked where promtool or an OpenMetrics parser is not
# installed. It takes the grammar both formats share and, strictly, only
# what kptwatch emits:
#
#   awk -v dialect=openmetrics|prometheus -f tests/unit/om_check.awk FILE
#
# Lines are "# HELP|TYPE|UNIT name ...", "# EOF" (OpenMetrics only, the
# last line) or samples "name{label="value",...} value" with no timestamp
# (node_exporter's textfile collector refuses them). Names match
# [a-zA-Z_:][a-zA-Z0-9_:]* and start with kptwatch_, label names
# [a-zA-Z_][a-zA-Z0-9_]*; label values escape only \\, \" and \n. A
# family is declared (TYPE, with HELP) before its samples, once, and its
# samples are not interleaved with another's; a sample's name is its
# family's as the dialect spells it (OpenMetrics: counter foo, sample
# foo_total; 0.0.4: counter foo_total, sample foo_total). Histograms: per
# label set, le rising, counts cumulative (never falling), a +Inf bucket
# last, equal to _count, with _sum. Each error is a line "FILE:LINE:
# message" on stdout; exit 1 if any.

BEGIN {
	if (dialect != "openmetrics" && dialect != "prometheus") {
		print "om_check: -v dialect=openmetrics or prometheus"
		exit 2
	}
	om = dialect == "openmetrics"
	if (prefix == "")
		prefix = "kptwatch_"
	NAME = "^[a-zA-Z_:][a-zA-Z0-9_:]*$"
	LNAME = "^[a-zA-Z_][a-zA-Z0-9_]*$"
	NUM = "^[-+]?([0-9]+(\\.[0-9]*)?|\\.[0-9]+)([eE][-+]?[0-9]+)?$"
	if (om)
		split("counter gauge histogram info", t)
	else
		split("counter gauge histogram", t)
	for (i in t)
		types[t[i]] = 1
	fam = ""
}

function err(msg) {
	printf "%s:%d: %s\n", FILENAME == "" ? "-" : FILENAME, FNR, msg
	bad++
}

# the end of a family: every histogram label set complete
function fam_end(   k) {
	if (fam == "")
		return
	if (!(fam in ftype))
		err("family " fam " has no # TYPE")
	if (!(fam in fhelp))
		err("family " fam " has no # HELP")
	if (ftype[fam] != "histogram")
		return
	for (k in hkeys) {
		if (!(k in inf))
			err(fam ": no le=\"+Inf\" bucket for {" k "}")
		else if (!(k in hcount))
			err(fam ": no _count for {" k "}")
		else if (hcount[k] != inf[k])
			err(fam ": _count " hcount[k] " is not the +Inf bucket's " inf[k] \
			    " for {" k "}")
		if (!(k in hsum))
			err(fam ": no _sum for {" k "}")
	}
	for (k in hkeys)
		delete hkeys[k]
	for (k in inf)
		delete inf[k]
	for (k in hcount)
		delete hcount[k]
	for (k in hsum)
		delete hsum[k]
	for (k in lastle)
		delete lastle[k]
	for (k in lastcum)
		delete lastcum[k]
}

# metadata of family n (kw: HELP, TYPE, UNIT)
function meta(kw, n) {
	if (n !~ NAME) {
		err("bad metric name '" n "'")
		return 0
	}
	if (index(n, prefix) != 1)
		err("metric name '" n "' lacks the prefix " prefix)
	if (n != fam) {
		fam_end()
		if (n in seen)
			err("family " n " declared again, or interleaved")
		seen[n] = 1
		fam = n
		nsamples = 0
	}
	if (nsamples)
		err("# " kw " " n " after its samples")
	if ((fam, kw) in got)
		err("second # " kw " for " n)
	got[fam, kw] = 1
	return 1
}

# escapes in a HELP text or a label value: \\ \n, \" where allowed
function escapes(s, quote_ok, what,   i, c) {
	for (i = 1; i <= length(s); i++) {
		c = substr(s, i, 1)
		if (c == "\\") {
			c = substr(s, ++i, 1)
			if (c != "\\" && c != "n" && !(c == "\"" && quote_ok))
				err(what ": bad escape \\" c)
		} else if (c == "\"" && what != "HELP (0.0.4)") {
			err(what ": unescaped double quote")
		}
	}
}

# the sample names a family of type ty called f may have
function member(n, f, ty) {
	if (ty == "gauge")
		return n == f
	if (ty == "info")
		return n == f "_info"
	if (ty == "counter")
		return om ? n == f "_total" : n == f
	if (ty == "histogram")
		return n == f "_bucket" || n == f "_sum" || n == f "_count"
	return 0
}

eof {
	err("content after # EOF")
	next
}

/^#/ {
	if ($0 == "# EOF") {
		if (!om)
			err("# EOF in the 0.0.4 format")
		fam_end()
		fam = ""
		eof = 1
		next
	}
	if ($1 != "#" || ($2 != "HELP" && $2 != "TYPE" && $2 != "UNIT")) {
		err("not a HELP, TYPE or UNIT line: " $0)
		next
	}
	if (!meta($2, $3))
		next
	if ($2 == "HELP") {
		fhelp[fam] = 1
		h = $0
		sub(/^# HELP [^ ]+ ?/, "", h)
		escapes(h, om, om ? "HELP" : "HELP (0.0.4)")
	} else if ($2 == "TYPE") {
		if (NF != 4 || !($4 in types))
			err("bad # TYPE line for this dialect: " $0)
		ftype[fam] = $4
		if ($4 == "counter" && om && fam ~ /_total$/)
			err("OpenMetrics counter " fam " declared with its _total suffix")
		if ($4 == "counter" && !om && fam !~ /_total$/)
			err("0.0.4 counter " fam " declared without its _total suffix")
	} else {
		if (!om)
			err("# UNIT in the 0.0.4 format")
		else if (NF != 4 || substr(fam, length(fam) - length($4)) != "_" $4)
			err("# UNIT " $4 " is not the suffix of " fam)
	}
	next
}

/^$/ {
	err("empty line")
	next
}

{
	line = $0
	if (!match(line, /^[^{ ]+/)) {
		err("no metric name: " line)
		next
	}
	n = substr(line, 1, RLENGTH)
	rest = substr(line, RLENGTH + 1)
	if (n !~ NAME) {
		err("bad metric name '" n "'")
		next
	}
	if (fam == "" || !(fam in ftype)) {
		err("sample " n " before its family's # TYPE")
		next
	}
	if (!member(n, fam, ftype[fam])) {
		err("sample " n " is not of family " fam " (" ftype[fam] ")")
		next
	}
	nsamples++
	# labels, by hand: a value may hold any of ,}= and escaped quotes
	key = ""
	le = ""
	if (substr(rest, 1, 1) == "{") {
		i = 2
		for (;;) {
			if (substr(rest, i, 1) == "}") {
				i++
				break
			}
			if (!match(substr(rest, i), /^[^=]*=/)) {
				err("bad labels: " rest)
				next
			}
			ln = substr(rest, i, RLENGTH - 1)
			i += RLENGTH
			if (ln !~ LNAME)
				err("bad label name '" ln "'")
			if (substr(rest, i, 1) != "\"") {
				err("label " ln ": value not quoted")
				next
			}
			v = ""
			for (i++; i <= length(rest); i++) {
				c = substr(rest, i, 1)
				if (c == "\\") {
					v = v c substr(rest, i + 1, 1)
					i++
				} else if (c == "\"") {
					break
				} else {
					v = v c
				}
			}
			if (i > length(rest)) {
				err("label " ln ": value not closed")
				next
			}
			escapes(v, 1, "label " ln)
			i++
			if (ln == "le")
				le = v
			else
				key = key ln "=\"" v "\","
			c = substr(rest, i, 1)
			if (c == ",")
				i++
			else if (c != "}") {
				err("bad labels after " ln ": " rest)
				next
			}
		}
		rest = substr(rest, i)
	}
	if (substr(rest, 1, 1) != " ") {
		err("no space before the value: " line)
		next
	}
	val = substr(rest, 2)
	if (val ~ / /) {
		err("a timestamp or more after the value: " line)
		next
	}
	if (val !~ NUM && val != "+Inf" && val != "-Inf" && val != "NaN") {
		err("bad value '" val "'")
		next
	}
	if ((n, key, le) in dup)
		err("sample " n "{" key "le=" le "} twice")
	dup[n, key, le] = 1
	if (ftype[fam] == "counter" && val + 0 < 0)
		err("counter " n " is negative")
	if (ftype[fam] != "histogram") {
		if (le != "")
			err(n ": le outside a histogram")
		next
	}
	hkeys[key] = 1
	if (n == fam "_bucket") {
		if (le == "") {
			err(n ": bucket without le")
			next
		}
		if (key in inf)
			err(n ": bucket le=\"" le "\" after +Inf")
		if (le != "+Inf" && le !~ NUM) {
			err(n ": le \"" le "\" is no number")
			next
		}
		lv = le == "+Inf" ? "inf" : le + 0
		if (key in lastle && (lastle[key] == "inf" || (lv != "inf" && lv <= lastle[key])))
			err(n ": le=\"" le "\" does not rise")
		if (key in lastcum && val + 0 < lastcum[key])
			err(n ": le=\"" le "\" count " val " below the previous " lastcum[key] \
			    " (buckets are cumulative)")
		lastle[key] = lv
		lastcum[key] = val + 0
		if (le == "+Inf")
			inf[key] = val + 0
	} else if (n == fam "_count") {
		hcount[key] = val + 0
	} else {
		hsum[key] = 1
	}
}

END {
	if (dialect != "openmetrics" && dialect != "prometheus")
		exit 2
	fam_end()
	if (om && !eof)
		err("no # EOF at the end")
	if (NR == 0)
		err("empty exposition")
	exit bad ? 1 : 0
}
