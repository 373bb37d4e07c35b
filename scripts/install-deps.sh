#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what building and testing kptwatch needs, from Debian's packages:
# the BPF toolchain (clang/LLVM, libbpf, bpftool, libelf, zlib), the test
# tools (jq, xmllint; groff and man-db render and check the man page;
# python3-prometheus-client's OpenMetrics parser checks --openmetrics) and
# the VM test bed (QEMU, a kernel build toolchain, pahole for BTF, ccache)
# and the benchmarks (bpftrace, gnuplot, time, perf).
# The man page is made from markdown by scripts/md2man.awk: no pandoc.
# promtool is not here: Debian ships it only with the Prometheus server
# (prometheus, ~100 MB and a service); tests use it when PROMTOOL or the
# PATH has one.
set -euo pipefail

pkgs=(
	make gcc clang llvm pkg-config
	libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev
	jq libxml2-utils groff-base man-db python3-prometheus-client strace
	qemu-system-x86 ccache flex bison bc libssl-dev dwarves cpio kmod
	xz-utils socat
	bpftrace gnuplot-nox time linux-perf
)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
		missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	echo "install-deps: all ${#pkgs[@]} packages present"
	exit 0
fi

sudo=
[ "$(id -u)" = 0 ] || sudo=sudo
echo "install-deps: installing ${missing[*]}"
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
