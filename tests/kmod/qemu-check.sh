#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# qemu-check.sh KBUILD_DIR
#
# Stand-alone check of the test module on one test-bed kernel, without the
# VM runner: builds the module (build.sh), boots KBUILD_DIR's bzImage under
# QEMU with the host's / as a read-only 9p root and guest-init.sh as PID 1,
# which runs guest-check.sh. Fails on a failed check or on a splat in the
# guest's console. tests/vm/run.sh is the general runner; this script exists
# so that the module can be checked on its own.
#
# Environment: KMOD_TIMEOUT (seconds, 900), KMOD_SMP (2), KMOD_MEM (2G),
# KMOD_CPU (max), and the KMOD_* knobs of guest-check.sh, passed through.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
[ $# -eq 1 ] || { echo "usage: qemu-check.sh KBUILD_DIR" >&2; exit 2; }
kb=$(cd "$1" && pwd)
img=$kb/obj/arch/x86/boot/bzImage
[ -f "$img" ] || { echo "qemu-check.sh: no $img" >&2; exit 2; }

ko=$("$here/build.sh" "$kb")

accel=(-accel tcg)
[ -w /dev/kvm ] && accel=(-accel kvm)

# guest-check.sh's knobs reach the guest's init as kernel parameters.
extra=""
for v in KMOD_PMD_ITERS KMOD_PUD_ITERS KMOD_PTE_ITERS KMOD_CHURN_SECS KMOD_CHURN_THREADS; do
	[ -n "${!v:-}" ] && extra="$extra $v=${!v}"
done

log=$(mktemp /tmp/kmod-qemu.XXXXXX.log)
echo "qemu-check.sh: console log in $log" >&2
t0=$(date +%s)
set +e
timeout "${KMOD_TIMEOUT:-900}" qemu-system-x86_64 "${accel[@]}" \
	-machine pc -cpu "${KMOD_CPU:-max}" -smp "${KMOD_SMP:-2}" -m "${KMOD_MEM:-2G}" \
	-nographic -no-reboot -nic none \
	-kernel "$img" \
	-append "console=ttyS0 root=/dev/root rootfstype=9p rootflags=trans=virtio,version=9p2000.L,msize=262144 ro panic=-1 init=$here/guest-init.sh kptw_ko=$ko$extra" \
	-virtfs local,path=/,id=kmodroot,mount_tag=/dev/root,security_model=none,readonly=on,multidevs=remap \
	</dev/null 2>&1 | tee "$log"
qrc=${PIPESTATUS[0]}
set -e
echo "qemu-check.sh: guest ran $(($(date +%s) - t0)) s, qemu exit $qrc" >&2

rc=0
if grep -nE 'WARNING:|BUG:|KASAN:|UBSAN:|Oops|Bad page|possible circular locking|possible recursive locking|INFO: task .* blocked|soft lockup|hard LOCKUP|Kernel panic' "$log" >&2; then
	echo "qemu-check.sh: FAIL: kernel splat in the guest log" >&2
	rc=1
fi
status=$(sed -n 's/^kmod-exit=\([0-9]*\).*/\1/p' "$log" | tail -n1)
if [ -z "$status" ]; then
	echo "qemu-check.sh: FAIL: guest-check.sh did not finish (timeout or crash)" >&2
	rc=1
elif [ "$status" != 0 ]; then
	rc=1
fi
exit $rc
