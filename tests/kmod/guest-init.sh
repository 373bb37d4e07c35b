#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of a bare guest booted by qemu-check.sh: mounts what guest-check.sh
# needs, runs it on the module named by kptw_ko= on the kernel command line
# (the kernel hands unknown name=value parameters to init as environment),
# reports its status and powers off. The root is the host's / over 9p,
# read-only; nothing here writes to it.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tmpfs tmpfs /tmp
echo "kmod-guest: $(uname -r), $(nproc) CPUs, cpu flags: $(grep -o -w -e pdpe1gb -e pse /proc/cpuinfo | sort -u | tr '\n' ' ')"
"$(dirname "$0")/guest-check.sh" "${kptw_ko:?kptw_ko= missing on the kernel command line}"
echo "kmod-exit=$?"
echo o >/proc/sysrq-trigger
# Power-off is asynchronous. Wait without exec'ing anything: once devices
# shut down, a page fault on the 9p root kills PID 1 with SIGBUS and the
# kernel panics, which would read as a splat.
while :; do :; done
