# SPDX-License-Identifier: GPL-2.0
# Functions of scripts/demo.sh, sourced (by demo.sh and by
# tests/unit/test_demo.sh, which feeds them fake logs and saved results).
#
# Needs: KPTWATCH_CACHE (set by the caller), TOP (the repository).

# fmt_dur SECONDS: "45 s", "3 min 05 s", "1 h 02 min"
fmt_dur() {
	local s=${1:-0}
	[ "$s" -lt 0 ] && s=0
	if [ "$s" -lt 60 ]; then
		printf '%d s' "$s"
	elif [ "$s" -lt 3600 ]; then
		printf '%d min %02d s' $((s / 60)) $((s % 60))
	else
		printf '%d h %02d min' $((s / 3600)) $((s % 3600 / 60))
	fi
}

# cache_key ENTRY SRC_DIR [PATCH...]: the KEY tests/vm/build-kernel.sh gives
# ENTRY's build directory, from the same functions (tests/vm/lib.sh), in a
# subshell that keeps their variables. Used only to tell "cached" from "to
# build" before building; build-kernel.sh decides.
cache_key() (
	entry=$1 src=$2
	shift 2
	. "$TOP/tests/vm/lib.sh"
	entry_inputs "$entry"
	cache_key "$src" "${fragments[@]}" "${patches[@]}" "$@"
)

# cached_dir ENTRY [PATCH...]: print the build directory if ENTRY (with
# PATCH on top: a mutant) is built and cached, else fail. Needs the source
# already fetched (it is, once any entry of the series was built).
cached_dir() {
	local entry=$1 src key name d
	shift
	src=$(ls -d "$KPTWATCH_CACHE/src/linux-source-${entry%%-*}-"*/.extracted 2>/dev/null | sort -V | tail -n1)
	[ -n "$src" ] || return 1
	src=${src%/.extracted}
	key=$(cache_key "$entry" "$src" "$@") || return 1
	name=$entry
	[ $# -gt 0 ] && name=$entry+mut
	d=$KPTWATCH_CACHE/build/$name-$key
	[ -f "$d/.built" ] || return 1
	echo "$d"
}

# previous_build NAME: "SECONDS LINES" of the newest earlier build of NAME
# (an ENTRY, or ENTRY+mut) in the cache, whatever its key: how long it took
# (build-seconds) and how many lines its build.log has. Fails if none.
previous_build() {
	local name=$1 f k best= t
	for f in "$KPTWATCH_CACHE/build/$name"-*/build-seconds; do
		[ -f "$f" ] || continue
		# ENTRY-KEY only: "6.12-KEY", not "6.12-patched-KEY"
		k=${f#"$KPTWATCH_CACHE/build/$name"-}
		k=${k%/build-seconds}
		[[ $k =~ ^[0-9a-f]{12}$ ]] || continue
		[ -z "$best" ] || [ "$f" -nt "$best" ] && best=$f
	done
	[ -n "$best" ] || return 1
	t=$(cat "$best")
	echo "$t $(wc -l <"${best%/build-seconds}/build.log" 2>/dev/null || echo 0)"
}

# estimate NAME: "SECONDS LINES SOURCE" for a build of NAME: the previous
# build of NAME, else of its base entry (6.12-patched for 6.12-patched+mut,
# 6.12 for 6.12-patched), else "0 0 none" (the caller says 20-40 min).
estimate() {
	local name=$1 p n
	for n in "$name" "${name%+mut}" "${name%%-*}"; do
		if p=$(previous_build "$n"); then
			echo "$p $n"
			return 0
		fi
	done
	echo "0 0 none"
}

# last_action LOG: the kernel build's latest action, "CC mm/vmalloc.o"
last_action() {
	[ -r "$1" ] || return 0
	tail -n 50 "$1" 2>/dev/null | sed -n 's/^  \([A-Z][A-Z0-9_]*\) *\(\[[A-Z]\] \)\{0,1\}\([^ ]*\)$/\1 \3/p' | tail -n1
}

# fmt_about SECONDS: an estimate, in whole minutes from 5 min on
fmt_about() {
	if [ "$1" -ge 300 ]; then
		printf '%d min' $((($1 + 30) / 60))
	else
		fmt_dur "$1"
	fi
}

# progress_line STEP ELAPSED EST_SECONDS EST_SOURCE LOG EST_LINES
# One line, the most useful first (a terminal cuts the rest): the step,
# the time elapsed, an estimate of the time left (from the last build,
# EST_SECONDS, of EST_SOURCE, refined by how far LOG is against that
# build's EST_LINES lines; else 20-40 min), the latest action in LOG.
progress_line() {
	local step=$1 el=$2 est=$3 src=$4 log=$5 lines=${6:-0} left act n pct=
	if [ -r "$log" ] && [ "$lines" -gt 0 ]; then
		n=$(wc -l <"$log")
		pct=$((n * 100 / lines))
		[ $pct -gt 99 ] && pct=99
	fi
	if [ "$est" -gt 0 ]; then
		left=$((est - el))
		# the log says how far along it is: trust it over the clock
		if [ -n "$pct" ] && [ "$pct" -gt 5 ]; then
			left=$((el * (100 - pct) / pct))
		fi
		if [ $left -gt 0 ]; then
			left="about $(fmt_about $left) left (last $src build: $(fmt_about "$est"))"
		else
			left="past the last $src build's $(fmt_about "$est")"
		fi
	else
		left="a cold build takes 20-40 min"
	fi
	act=$(last_action "$log")
	printf '%s: %s, %s%s%s' "$step" "$(fmt_dur "$el")" "$left" "${pct:+, ~$pct%}" "${act:+; $act}"
}

# build_step STEPLOG: what build-kernel.sh / fetch-source.sh said last,
# shortened ("configuring", "building bzImage and modules", ...)
build_step() {
	local l
	l=$(grep -E '^(build-kernel|fetch-source)\.sh: ' "$1" 2>/dev/null | grep -vE ': (built|cached) in ' | tail -n1)
	l=${l#*: }
	l=${l%% (*}
	case "$l" in
	*": "*) l=${l#*: } ;;
	esac
	case "$l" in
	"building bzImage and modules") l=building ;;
	esac
	echo "${l:-starting}"
}

# kernel_log STEPLOG: the build.log build-kernel.sh named
kernel_log() {
	sed -n 's/.*(log: \(.*build\.log\))$/\1/p' "$1" 2>/dev/null | tail -n1
}

# watch_build PID LABEL NAME STEPLOG: show progress until PID exits. On a
# terminal one line redrawn every KPTWATCH_DEMO_TICK s (default 5), else a
# new line every KPTWATCH_DEMO_TICK s (default 60). Returns PID's status.
watch_build() {
	local pid=$1 label=$2 name=$3 steplog=$4 t0 tick est lines src line rc cols
	read -r est lines src <<<"$(estimate "$name")"
	t0=$(date +%s)
	if [ -t 1 ]; then tick=${KPTWATCH_DEMO_TICK:-5}; else tick=${KPTWATCH_DEMO_TICK:-60}; fi
	cols=$(tput cols 2>/dev/null) || cols=
	[ -n "$cols" ] && [ "$cols" -gt 20 ] || cols=${COLUMNS:-100}
	while kill -0 "$pid" 2>/dev/null; do
		line=$(progress_line "$label: $(build_step "$steplog")" $(($(date +%s) - t0)) \
			"$est" "$src" "$(kernel_log "$steplog")" "$lines")
		if [ -t 1 ]; then
			printf '\r\033[K%s' "${line:0:$((cols - 1))}"
		else
			echo "$line"
		fi
		# look for the build's end every 0.2 s: the next step need not
		# wait out the tick
		local i=0
		while [ $i -lt $((tick * 5)) ] && kill -0 "$pid" 2>/dev/null; do
			sleep 0.2
			i=$((i + 1))
		done
	done
	wait "$pid"
	rc=$?
	[ -t 1 ] && printf '\r\033[K'
	return $rc
}

# counters FILE: "queued Q freed_ok F violation V range_violation R" from kptwatch's text
# output (its "counters:" block), 0 where absent
counters() {
	awk '
		/^counters:/ { c = 1 }
		c {
			for (i = 1; i < NF; i++)
				if ($i in v && $(i + 1) ~ /^[0-9]+/)
					v[$i] = $(i + 1) + 0
			if (!/^counters:/ && /^[^ ]/)
				c = 0
		}
		BEGIN { v["queued"] = v["freed_ok"] = v["violation"] = v["range_violation"] = 0 }
		END {
			printf "queued %d freed_ok %d violation %d range_violation %d\n",
			       v["queued"], v["freed_ok"], v["violation"], v["range_violation"]
		}
	' 2>/dev/null <"$1" || echo "queued 0 freed_ok 0 violation 0 range_violation 0"
}

# hist_figures FILE METRIC: "count N  avg A  p50 ..." of METRIC's histogram
# in kptwatch's text output (the last one), empty if absent
hist_figures() {
	sed -n "s/^$2: \(count .*\)/\1/p" "$1" 2>/dev/null | tail -n1
}

# short_check FILE MAX: kptwatch check's text output with the violation
# reports before the histograms cut to MAX lines (a buggy kernel gives
# hundreds, each with two stacks); histograms, counters, verdict in full
short_check() {
	awk -v max="$2" '
		!h && /^[a-z_]+: (count |no samples)/ {
			h = 1
			if (n > max)
				printf "[... %d more lines of violation reports: all in check.txt ...]\n\n", n - max
		}
		h { print; next }
		{ if (++n <= max) print }
		END { if (!h && n > max) printf "[... %d more lines in check.txt ...]\n", n - max }
	' "$1"
}

# reasons FILE: check's "fail" and "incomplete" lines, joined with "; "
reasons() {
	sed -n 's/^\(fail\|incomplete\) *//p' "$1" 2>/dev/null | paste -sd ';' | sed 's/;/; /g'
}

# paths FILE: the violations by the path that freed the page, "free_pagetable
# 1, pmd_free_pte_page 32" (from check's violation reports)
paths() {
	sed -n 's/.* \(range_\)\{0,1\}violation  *pfn 0x[0-9a-f]* order [0-9]* from \([^ ]*\) .*/\2/p' "$1" 2>/dev/null |
		sort | uniq -c | sort -rn | awk '{ printf "%s%s %s", (NR > 1 ? ", " : ""), $2, $1 }'
}

# get KEY FILE: the value of KEY= in a key=value file
get() {
	awk -v k="$1=" 'index($0, k) == 1 { v = substr($0, length(k) + 1); f = 1 }
		END { if (f) print v }' "$2" 2>/dev/null
}

# judge DIR: "PASS|FAIL|ERROR reason" for one kernel's saved result
# (DIR/result, key=value: label, entry, expect clean|violation, run_rc,
# check_rc, hotplug; counters from DIR/check.txt)
judge() {
	local d=$1 r=$1/result expect run check q f v rv
	[ -f "$r" ] || { echo "ERROR no result saved ($d/result)"; return; }
	expect=$(get expect "$r")
	run=$(get run_rc "$r")
	check=$(get check_rc "$r")
	read -r _ q _ f _ v _ rv <<<"$(counters "$d/check.txt")"
	# a page flushed by a range that missed it is as bad (range_violation)
	v=$((v + rv))
	case "$run" in
	0) ;;
	123) echo "ERROR the kernel log has a splat (see $d/run.log)"; return ;;
	124) echo "ERROR the guest timed out (see $d/run.log)"; return ;;
	125) echo "ERROR the test bed failed to start the guest (see $d/run.log)"; return ;;
	126) echo "ERROR the guest stopped without a result (see $d/run.log)"; return ;;
	"") echo "ERROR the guest did not run"; return ;;
	*) echo "ERROR the guest script failed, exit $run: $(get error "$r") (see $d/guest.log)"; return ;;
	esac
	local why by
	why=$(reasons "$d/check.txt")
	by=$(paths "$d/check.txt")
	case "$expect:$check" in
	clean:0) echo "PASS clean: $q pages queued, $f freed after an IOMMU flush, 0 violations" ;;
	clean:1) echo "FAIL ${why:-check exit 1}${by:+ (freed by: $by)}" ;;
	clean:3) echo "FAIL verdict incomplete: ${why:-see $d/check.txt}" ;;
	violation:1)
		if [ "${v:-0}" -gt 0 ]; then
			echo "PASS the bug was caught: $v pages freed before an IOMMU flush that covers them${by:+ (freed by: $by)}"
		else
			echo "FAIL check failed but reported no violation: ${why:-see $d/check.txt}"
		fi ;;
	violation:0) echo "FAIL the seeded bug was not caught: check said clean" ;;
	violation:3) echo "FAIL verdict incomplete, the bug neither caught nor excluded: ${why:-see $d/check.txt}" ;;
	*) echo "FAIL kptwatch check exited ${check:-?}: ${why:-see $d/check.txt}" ;;
	esac
}

# summary DIR: the plain summary over DIR/*/result; returns 0 when every
# kernel gave what it should, 1 when a verdict was wrong, 5 when a guest
# run failed, 4 when there is nothing to summarize
summary() {
	local dir=$1 d j status=0 n=0 entry hot label about h seen=" "
	echo "== Summary"
	for d in "$dir"/fixed "$dir"/buggy "$dir"/*/; do
		d=${d%/}
		[ -f "$d/result" ] || continue
		case "$seen" in *" $d "*) continue ;; esac
		seen="$seen $d "
		n=$((n + 1))
		label=$(get label "$d/result")
		entry=$(get entry "$d/result")
		hot=$(get hotplug "$d/result")
		j=$(judge "$d")
		printf '  %-5s %s (%s)\n' "${j%% *}" "$label" "$entry"
		printf '        %s\n' "${j#* }"
		about=$(get about "$d/result")
		[ -n "$about" ] && printf '        kernel: %s\n' "$about"
		h=$(hist_figures "$d/check.txt" enq_to_free)
		[ -n "$h" ] && printf '        enqueue to free: %s\n' "$h"
		printf '        watched: %s%s\n' "$(get workload "$d/result")" \
			"${hot:+; memory hot-remove: $hot}"
		printf '        outputs: %s/\n' "$d"
		case "${j%% *}" in
		FAIL) [ $status = 0 ] && status=1 ;;
		ERROR) status=5 ;;
		esac
	done
	if [ $n = 0 ]; then
		echo "  nothing was run (no $dir/*/result)"
		return 4
	fi
	return $status
}
