#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# hotplug-host.sh QMP_SOCKET SHARE QEMU_PID
#
# Host half of the memory-hotplug channel (run.sh --hotplug starts it). The
# guest half, guest-hotplug.sh, drops requests into SHARE/hotplug/:
#   req-N   "plug NAME SIZE"   object-add memory-backend-ram id=mem-NAME
#                              + device_add pc-dimm id=NAME
#           "unplug NAME"      device_del NAME, wait for QEMU's
#                              DEVICE_DELETED (the guest has offlined and
#                              ejected the DIMM through ACPI), object-del
# and this script answers each with ack-N: "ok ..." or "error ...".
# It serves until QEMU_PID exits. QMP goes over one socat connection, so
# events (DEVICE_DELETED) arrive on the same stream as command replies.
set -uo pipefail

sock=${1:?usage: hotplug-host.sh QMP_SOCKET SHARE QEMU_PID}
share=${2:?}
qpid=${3:?}
dir=$share/hotplug
mkdir -p "$dir"
eject_timeout=${KPTWATCH_VM_EJECT_TIMEOUT:-300}

say() { echo "hotplug-host: $(date +%T) $*"; }

for _ in $(seq 100); do
	[ -S "$sock" ] && break
	kill -0 "$qpid" 2>/dev/null || exit 0
	sleep 0.1
done
[ -S "$sock" ] || { say "no QMP socket at $sock"; exit 1; }

coproc QMP { exec socat - UNIX-CONNECT:"$sock"; }
qin=${QMP[1]}
qout=${QMP[0]}
deleted=" "
refused=" "

note_event() {
	say "event: $1"
	if [[ $1 == *DEVICE_DELETED* && $1 =~ \"device\":\ *\"([^\"]+)\" ]]; then
		deleted+="${BASH_REMATCH[1]} "
	fi
	# The guest answers an eject request (_OST source 3) with status 0x84
	# (in progress) or 0 (done); anything else means it refused.
	if [[ $1 == *ACPI_DEVICE_OST* && $1 =~ \"device\":\ *\"([^\"]+)\".*\"source\":\ *3,\ *\"status\":\ *([0-9]+) ]]; then
		case ${BASH_REMATCH[2]} in
		0 | 132) ;;
		*) refused+="${BASH_REMATCH[1]}=${BASH_REMATCH[2]} " ;;
		esac
	fi
}

# Read one QMP line into $line; 0 = got one, 1 = timeout, 2 = stream closed.
qmp_read() {
	local rc=0
	IFS= read -r -t "$1" line <&"$qout" 2>/dev/null || rc=$?
	[ $rc = 0 ] && return 0
	[ $rc -gt 128 ] && return 1
	return 2
}

# Send one command and read up to its reply (into $reply), noting the events
# that arrive meanwhile. Fails on an error reply or no reply.
qmp() {
	local line deadline=$((SECONDS + 60))
	say "-> $1"
	reply='{"error": "no reply from QEMU"}'
	printf "%s\n" "$1" 1>&"$qin" || { say "<- (QMP closed)"; return 1; }
	while [ $SECONDS -lt $deadline ]; do
		qmp_read 5 || { [ $? = 2 ] && break; continue; }
		case "$line" in
		*'"event"'*) note_event "$line" ;;
		*'"return"'*) reply=$line; say "<- $reply"; return 0 ;;
		*'"error"'*) reply=$line; say "<- $reply"; return 1 ;;
		esac
	done
	say "<- $reply"
	return 1
}

wait_deleted() {
	local name=$1 deadline=$((SECONDS + eject_timeout)) line
	while [ $SECONDS -lt $deadline ]; do
		[[ $deleted == *" $name "* ]] && return 0
		[[ $refused == *" $name="* ]] && return 2
		kill -0 "$qpid" 2>/dev/null || return 1
		if qmp_read 1; then
			note_event "$line"
		elif [ $? = 2 ]; then
			return 1
		fi
	done
	return 1
}

why() { [[ $reply =~ \"desc\":\ *\"([^\"]*)\" ]] && echo ": ${BASH_REMATCH[1]}"; }

ack() {
	printf '%s\n' "$2" >"$dir/.ack-$1" && mv "$dir/.ack-$1" "$dir/ack-$1"
	say "ack-$1: $2"
}

qmp '{"execute": "qmp_capabilities"}' || { say "QMP handshake failed"; exit 1; }

serve() {
	local n=$1 verb name size bytes
	read -r verb name size <"$dir/req-$n" || true
	rm -f "$dir/req-$n"
	say "req-$n: $verb $name $size"
	[[ $name =~ ^[a-zA-Z][a-zA-Z0-9_-]*$ ]] || { ack "$n" "error bad device name '$name'"; return; }
	case "$verb" in
	plug)
		bytes=$(numfmt --from=iec "${size:-}" 2>/dev/null) || { ack "$n" "error bad size '$size'"; return; }
		qmp "{\"execute\": \"object-add\", \"arguments\": {\"qom-type\": \"memory-backend-ram\", \"id\": \"mem-$name\", \"size\": $bytes}}" ||
			{ ack "$n" "error object-add mem-$name failed$(why)"; return; }
		if ! qmp "{\"execute\": \"device_add\", \"arguments\": {\"driver\": \"pc-dimm\", \"id\": \"$name\", \"memdev\": \"mem-$name\"}}"; then
			local w; w=$(why)
			qmp "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"mem-$name\"}}"
			ack "$n" "error device_add $name failed$w"
			return
		fi
		deleted=${deleted// $name / }
		ack "$n" "ok plugged $name $bytes"
		;;
	unplug)
		# Forget an earlier refusal of this DIMM.
		local r keep=" "
		for r in $refused; do [[ $r == "$name="* ]] || keep+="$r "; done
		refused=$keep
		qmp "{\"execute\": \"device_del\", \"arguments\": {\"id\": \"$name\"}}" ||
			{ ack "$n" "error device_del $name failed$(why)"; return; }
		local rc=0 st
		wait_deleted "$name" || rc=$?
		if [ $rc = 2 ]; then
			st=${refused##*" $name="}
			ack "$n" "error guest refused to eject $name (ACPI _OST status ${st%% *})"
			return
		elif [ $rc != 0 ]; then
			ack "$n" "error guest did not eject $name within $eject_timeout s"
			return
		fi
		qmp "{\"execute\": \"object-del\", \"arguments\": {\"id\": \"mem-$name\"}}" ||
			{ ack "$n" "error object-del mem-$name failed$(why)"; return; }
		ack "$n" "ok unplugged $name"
		;;
	*) ack "$n" "error unknown request '$verb'" ;;
	esac
}

say "serving $dir"
while kill -0 "$qpid" 2>/dev/null; do
	shopt -s nullglob
	reqs=("$dir"/req-*)
	shopt -u nullglob
	if [ ${#reqs[@]} -eq 0 ]; then
		# Drain events so the stream never backs up.
		if qmp_read 0.2; then
			note_event "$line"
		elif [ $? = 2 ]; then
			sleep 0.2
		fi
		continue
	fi
	for r in "${reqs[@]}"; do
		serve "${r##*/req-}"
	done
done
say "QEMU gone, done"
