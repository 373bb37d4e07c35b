#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# guest-init.sh: PID 1 of a test-bed guest (run.sh passes it as init=).
#
# Stage 1 runs on the root the kernel mounted: the host's / over virtio-9p,
# read-only. It builds a writable root (overlayfs: lower = that 9p root,
# upper/work on a tmpfs), mounts the pseudo file systems and the run's
# writable share into it, and chroots into it for stage 2, so every host path
# (the build tree, bpftool, the kernel cache) is the same path in the guest.
#
# Stage 2 runs the command that run.sh wrote to RUN/cmd, in its directory,
# with stdin from /dev/null and stdout/stderr as pipes to two relays that
# copy them into RUN/share (run.sh streams those files while the guest runs),
# then records the exit status and the kernel log in RUN/share and powers off.
#
# Everything this script prints itself goes to the kernel console.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
self=$0
# run.sh --append KPTWATCH_INIT_TRACE=1: trace this script on the console,
# with the guest uptime on each line (where the boot time goes).
if [ -n "${KPTWATCH_INIT_TRACE:-}" ]; then
	PS4='+ [$(read -r u _ </proc/uptime 2>/dev/null; echo ${u:-?})] '
	set -x
fi

say() {
	local up=
	read -r up _ </proc/uptime 2>/dev/null
	echo "guest-init: [${up:-?}] $*"
}

poweroff_now() {
	sync
	[ -e /proc/sysrq-trigger ] || mount -t proc proc /proc
	echo o >/proc/sysrq-trigger 2>/dev/null
	sleep 10 2>/dev/null
	# Power-off did not happen (no ACPI S5?): reboot, which -no-reboot
	# turns into a QEMU exit as well.
	echo b >/proc/sysrq-trigger 2>/dev/null
	sleep 10 2>/dev/null
}

# A failure before the command runs: say why, leave no status, stop.
fatal() {
	say "FATAL: $*"
	[ -n "${share:-}" ] && [ -d "$share" ] && echo "$*" >"$share/init-error" 2>/dev/null
	poweroff_now
	exit 1
}

stage1() {
	# /proc first: `mount -a` consults /proc/self/mountinfo and skips every
	# entry when it cannot read one.
	mount -t proc proc /proc || fatal "cannot mount /proc"
	say "stage 1"
	run=${KPTWATCH_RUN:-}
	[ -n "$run" ] || fatal "no KPTWATCH_RUN= on the kernel command line"
	share=

	# As few programs as possible: each one is loaded over 9p, and that is
	# most of the boot time under TCG. The overlay's upper and work dirs
	# must exist on the tmpfs before run.sh's fstab can mount the rest
	# (the overlay root, pseudo file systems, the share) in one go.
	local base=/run/kptwatch-vm
	mount -t tmpfs -o mode=0755 kptwatch-vm /run || fatal "cannot mount a tmpfs on /run"
	mkdir -p $base/upper $base/work $base/root || fatal "mkdir on the tmpfs failed"
	# The upper tmpfs has no xattrs, so overlayfs runs without index,
	# metacopy and redirect_dir; fine for a throw-away root.
	mount -a ${KPTWATCH_INIT_TRACE:+-v} --fstab "$run/fstab" || say "some mounts of $run/fstab failed (see above)"
	[ -d $base/root/proc/self ] || fatal "the overlay root or its /proc is missing"
	[ -d "$base/root$run/share" ] || fatal "the run share is missing"
	share=$run/share

	say "root ready"
	exec chroot $base/root /bin/bash "$self" --stage2
	fatal "chroot into the overlay root failed"
}

stage2() {
	run=$KPTWATCH_RUN
	share=$run/share
	unset KPTWATCH_RUN
	export HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C.UTF-8
	echo kptwatch-vm >/proc/sys/kernel/hostname
	# devtmpfs lacks /dev/fd (bash's process substitution needs it) and
	# /dev/std{in,out,err}; run.sh made them in the run directory.
	cp -a "$run/dev/." /dev/

	local cwd argv envs entry
	# shellcheck source=/dev/null
	. "$run/cmd" || fatal "cannot read $run/cmd"
	[ ${#envs[@]} -gt 0 ] && export "${envs[@]}"
	export KPTWATCH_VM=1 KPTWATCH_VM_ENTRY=$entry KPTWATCH_VM_SHARE=$share

	# The command sees pipes, as under CI; two relays copy them to files in
	# the share, which run.sh streams to its stdout and stderr as they grow.
	local out_pid err_pid
	exec 5> >(exec cat >"$share/stdout")
	out_pid=$!
	exec 6> >(exec cat >"$share/stderr")
	err_pid=$!

	# The share's mtime stamps are the host's clock: run.sh turns this
	# file into the boot time; the content is the guest's uptime.
	local up
	read -r up _ </proc/uptime
	echo "$up" >"$share/cmd-start"
	say "running the command"
	local status=0
	(set +x; cd "$cwd" && exec "${argv[@]}") </dev/null >&5 2>&6 5>&- 6>&- || status=$?
	exec 5>&- 6>&-
	# the guest's uptime again, stamped by the host: run.sh compares the
	# two clocks over the command (a guest clock running fast has made a
	# test's sleep end early)
	read -r up _ </proc/uptime
	echo "$up" >"$share/cmd-end"

	# Let the relays drain; a daemon the command left behind may hold
	# the pipes open, so do not wait for ever.
	for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
		kill -0 $out_pid 2>/dev/null || kill -0 $err_pid 2>/dev/null || break
		sleep 0.1
	done
	kill $out_pid $err_pid 2>/dev/null

	# run.sh reads these after QEMU has exited: no need for atomic renames.
	echo "$status" >"$share/status"
	dmesg >"$share/dmesg.txt" 2>/dev/null
	say "command exited with status $status"
	poweroff_now
}

case "${1:-}" in
--stage2) stage2 ;;
*) stage1 ;;
esac
