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
# with stdin from /dev/null and stdout/stderr relayed to the second and third
# serial ports (which the host streams to run.sh's stdout and stderr), then
# records the exit status and the kernel log in RUN/share and powers off.
#
# Everything this script prints itself goes to the kernel console.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
self=$0

say() { echo "guest-init: $*"; }

poweroff_now() {
	sync
	echo o >/proc/sysrq-trigger 2>/dev/null
	sleep 10
	# Power-off did not happen (no ACPI S5?): reboot, which -no-reboot
	# turns into a QEMU exit as well.
	echo b >/proc/sysrq-trigger 2>/dev/null
	sleep 10
}

# A failure before the command runs: say why, leave no status, stop.
fatal() {
	say "FATAL: $*"
	[ -n "${share:-}" ] && [ -d "$share" ] && echo "$*" >"$share/init-error" 2>/dev/null
	poweroff_now
	exit 1
}

cmdline_arg() {
	local w
	for w in $(cat /proc/cmdline); do
		case "$w" in "$1"=*) echo "${w#*=}"; return ;; esac
	done
}

stage1() {
	mount -t proc proc /proc || fatal "cannot mount /proc"
	run=$(cmdline_arg kptwatch.run)
	[ -n "$run" ] || fatal "no kptwatch.run= on the kernel command line"
	share=

	local base=/run/kptwatch-vm new
	mount -t tmpfs -o mode=0755 kptwatch-vm /run || fatal "cannot mount a tmpfs on /run"
	mkdir -p $base/upper $base/work $base/root
	new=$base/root
	# The upper tmpfs has no xattrs, so overlayfs runs without index,
	# metacopy and redirect_dir; fine for a throw-away root.
	mount -t overlay overlay -o lowerdir=/,upperdir=$base/upper,workdir=$base/work $new ||
		fatal "cannot mount the overlay root"

	mount -t proc proc $new/proc || fatal "cannot mount proc"
	mount -t sysfs sysfs $new/sys || fatal "cannot mount sysfs"
	mount -t devtmpfs devtmpfs $new/dev || fatal "cannot mount devtmpfs"
	mkdir -p $new/dev/pts $new/dev/shm
	mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts $new/dev/pts
	mount -t tmpfs -o mode=1777 shm $new/dev/shm
	mount -t tmpfs -o mode=0755 run $new/run
	mount -t debugfs debugfs $new/sys/kernel/debug || say "no debugfs"
	mount -t tracefs tracefs $new/sys/kernel/tracing || say "no tracefs"
	mount -t bpf bpf $new/sys/fs/bpf || say "no bpffs"
	[ -d $new/sys/fs/cgroup ] && mount -t cgroup2 cgroup2 $new/sys/fs/cgroup 2>/dev/null

	mount -t 9p -o trans=virtio,version=9p2000.L,cache=none,msize=262144 kptshare "$new$run/share" ||
		fatal "cannot mount the run share at $run/share"
	share=$run/share

	exec chroot $new /bin/bash "$self" --stage2
	fatal "chroot into the overlay root failed"
}

stage2() {
	run=$(cmdline_arg kptwatch.run)
	share=$run/share
	export HOME=/root USER=root LOGNAME=root SHELL=/bin/bash TERM=dumb LANG=C.UTF-8
	echo kptwatch-vm >/proc/sys/kernel/hostname
	command -v ip >/dev/null && ip link set lo up 2>/dev/null
	ln -sf /proc/self/fd /dev/fd 2>/dev/null

	local cwd argv envs entry
	# shellcheck source=/dev/null
	. "$run/cmd" || fatal "cannot read $run/cmd"
	[ ${#envs[@]} -gt 0 ] && export "${envs[@]}"
	export KPTWATCH_VM=1 KPTWATCH_VM_ENTRY=$entry KPTWATCH_VM_SHARE=$share

	# Raw ttys: no \n -> \r\n, no echo; the host gets the bytes as written.
	stty -F /dev/ttyS1 raw -echo 2>/dev/null || fatal "no /dev/ttyS1 for stdout"
	stty -F /dev/ttyS2 raw -echo 2>/dev/null || fatal "no /dev/ttyS2 for stderr"
	# The command sees pipes, as under CI; two relays copy them out.
	mkfifo /run/kptwatch-out /run/kptwatch-err || fatal "mkfifo failed"
	cat /run/kptwatch-out >/dev/ttyS1 &
	local out_pid=$!
	cat /run/kptwatch-err >/dev/ttyS2 &
	local err_pid=$!

	# The share's mtime stamps are the host's clock: run.sh turns this
	# file into the boot time.
	cat /proc/uptime >"$share/cmd-start"
	local status=0
	(cd "$cwd" && exec "${argv[@]}") </dev/null >/run/kptwatch-out 2>/run/kptwatch-err || status=$?

	# Let the relays drain; a daemon the command left behind may hold
	# the pipes open, so do not wait for ever.
	local i
	for i in $(seq 50); do
		kill -0 $out_pid 2>/dev/null || kill -0 $err_pid 2>/dev/null || break
		sleep 0.1
	done
	kill $out_pid $err_pid 2>/dev/null

	echo "$status" >"$share/status.tmp" && mv "$share/status.tmp" "$share/status"
	dmesg >"$share/dmesg.txt" 2>/dev/null
	say "command exited with status $status"
	poweroff_now
}

case "${1:-}" in
--stage2) stage2 ;;
*) stage1 ;;
esac
