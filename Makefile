# SPDX-License-Identifier: GPL-2.0
#
# make              build/kptwatch (dynamic; STATIC=1 for a static binary)
# make deps         install the Debian packages the build and tests need
# make check        unit + bpf tiers (bpf needs root)
# make check-unit   no privileges
# make check-bpf    BPF_PROG_TEST_RUN on the running kernel, root
# make check-vm     the VM tier: builds/boots the kernel matrix (long)
# make install      PREFIX=/usr/local, DESTDIR: sbin/kptwatch, the man page,
#                   the bash completion; make uninstall removes them
# make demo         the patched and a buggy kernel in QEMU (scripts/demo.sh)
# make bench        what watching costs, against bpftrace, in QEMU (a benchmark,
#                   not a test: docs/benchmarks.md); BENCH_ARGS="--rounds 3 ..."

BUILD     ?= build
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc
ARCH      := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
VERSION   := $(shell git describe --tags --always --dirty 2>/dev/null || echo unknown)

CFLAGS    ?= -g -O2
CFLAGS    += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE \
	     -Iinclude -Isrc -I$(BUILD) -DKPT_VERSION='"$(VERSION)"'
BPF_CFLAGS := -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(ARCH) \
	      -Wall -Wno-unused-function -Iinclude -Ibpf

ifeq ($(STATIC),1)
LDFLAGS   += -static
LIBS      := $(shell pkg-config --static --libs libbpf) -lzstd
else
LIBS      := $(shell pkg-config --libs libbpf 2>/dev/null || echo -lbpf -lelf) -lz
endif

BPF_OBJS  := $(patsubst bpf/%.bpf.c,$(BUILD)/%.bpf.o,$(wildcard bpf/*.bpf.c))
SKELS     := $(BPF_OBJS:.bpf.o=.skel.h)
BPF_HDRS  := $(wildcard bpf/*.h) $(wildcard include/*.h)
SRCS      := $(wildcard src/*.c)
OBJS      := $(patsubst src/%.c,$(BUILD)/src/%.o,$(SRCS))
LIB_OBJS  := $(filter-out $(BUILD)/src/main.o,$(OBJS))
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
UNIT_BINS := $(patsubst tests/unit/%.c,$(BUILD)/unit/%,$(UNIT_SRCS))
BPFT_SRCS := $(wildcard tests/bpf/*.c)
MAN_DATE  := $(shell git log -1 --format=%cs -- docs/kptwatch.8.md 2>/dev/null)
# check-unit's static build, in a directory of its own
STATIC_BUILD ?= $(BUILD)-static

# kptwatch needs root (CAP_BPF, CAP_PERFMON) and its page is in section 8:
# sbin, as bpftool. Root's PATH and sudo's secure_path have it.
PREFIX    ?= /usr/local
SBINDIR   ?= $(PREFIX)/sbin
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
INSTALL   ?= install

.PHONY: all deps check check-unit check-bpf check-vm clean FORCE install uninstall demo bench
.DELETE_ON_ERROR:
# Keep the BPF objects: the skeleton embeds them, and tests/bpf load them too.
.SECONDARY: $(BPF_OBJS)

all: $(BUILD)/kptwatch $(BUILD)/kptwatch.8

deps:
	scripts/install-deps.sh

$(BUILD) $(BUILD)/src $(BUILD)/unit:
	mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) | $(BUILD)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/src/%.o: src/%.c $(wildcard src/*.h) $(wildcard include/*.h) | $(BUILD)/src
	$(CC) $(CFLAGS) -c $< -o $@

# only the loader sees the skeleton: the rest builds and tests without BPF
$(BUILD)/src/main.o: $(SKELS)

# relink when the link flags change (make, then make STATIC=1)
$(BUILD)/link-flags: FORCE | $(BUILD)
	@echo '$(LDFLAGS) $(LIBS)' | cmp -s - $@ || echo '$(LDFLAGS) $(LIBS)' > $@

$(BUILD)/kptwatch: $(OBJS) $(BUILD)/link-flags
	$(CC) $(LDFLAGS) -o $@ $(OBJS) $(LIBS)

$(BUILD)/kptwatch.8: docs/kptwatch.8.md scripts/md2man.awk | $(BUILD)
	awk -v version='$(VERSION)' -v date='$(MAN_DATE)' -f scripts/md2man.awk $< > $@

$(STATIC_BUILD)/kptwatch: FORCE
	$(MAKE) --no-print-directory BUILD=$(STATIC_BUILD) STATIC=1 $@

install: all
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR)
	$(INSTALL) -m 0755 $(BUILD)/kptwatch $(DESTDIR)$(SBINDIR)/kptwatch
	$(INSTALL) -m 0644 $(BUILD)/kptwatch.8 $(DESTDIR)$(MANDIR)/man8/kptwatch.8
	$(INSTALL) -m 0644 scripts/kptwatch.bash-completion $(DESTDIR)$(BASHCOMPDIR)/kptwatch

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/kptwatch $(DESTDIR)$(MANDIR)/man8/kptwatch.8 \
		$(DESTDIR)$(BASHCOMPDIR)/kptwatch

# kptwatch with its test hooks compiled in, for tests/unit/test_cli.sh only
$(BUILD)/kptwatch-test: $(SRCS) $(wildcard src/*.h) $(wildcard include/*.h) $(SKELS) \
			$(BUILD)/link-flags
	$(CC) $(CFLAGS) -DKPT_TEST_HOOKS $(LDFLAGS) -o $@ $(SRCS) $(LIBS)

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS) $(wildcard tests/unit/*.h) | $(BUILD)/unit
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(LIBS)

# the user-page workload of make bench --mode user_pages
$(BUILD)/page-churn: tests/bench/page-churn.c | $(BUILD)
	$(CC) $(CFLAGS) -o $@ $<

$(BUILD)/test_bpf: $(BPFT_SRCS) $(wildcard tests/bpf/*.h) $(SKELS)
	$(CC) $(CFLAGS) -Itests/bpf -o $@ $(BPFT_SRCS) $(LIBS)

# Build all the tiers need in parallel, then run the two tiers side by side:
# check stays within a minute on two cores.
NPROC     := $(shell nproc 2>/dev/null || echo 2)
CHECK_DEPS = $(UNIT_BINS) $(BUILD)/kptwatch $(BUILD)/kptwatch-test $(BUILD)/kptwatch.8 \
	     $(STATIC_BUILD)/kptwatch $(BUILD)/test_bpf

check:
	$(MAKE) --no-print-directory -j$(NPROC) $(CHECK_DEPS)
	$(MAKE) --no-print-directory -j2 check-unit check-bpf

check-unit: $(UNIT_BINS) $(BUILD)/kptwatch $(BUILD)/kptwatch-test
	tests/unit/run.sh $(UNIT_BINS)

# the docs, install and static-binary tests (tests/unit/test_{docs,install,static}.sh)
check-unit: $(BUILD)/kptwatch.8 $(STATIC_BUILD)/kptwatch
check-unit: export KPTWATCH_BUILD := $(BUILD)
check-unit: export KPTWATCH_STATIC := $(STATIC_BUILD)/kptwatch

check-bpf: $(BUILD)/test_bpf
	$(BUILD)/test_bpf

check-vm: $(BUILD)/kptwatch $(BUILD)/kptwatch-test $(BUILD)/test_bpf
	tests/vm/check-vm.sh

# make demo DEMO_ARGS="--no-bug" etc.: scripts/demo.sh --help
demo:
	scripts/demo.sh $(DEMO_ARGS)

# make bench BENCH_ARGS="--rounds 3 --secs 2 7.3": tests/bench/bench.sh --help
bench: $(BUILD)/kptwatch $(BUILD)/page-churn
	tests/bench/bench.sh $(BENCH_ARGS)

clean:
	rm -rf $(BUILD) $(STATIC_BUILD)
