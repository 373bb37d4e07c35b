# SPDX-License-Identifier: GPL-2.0
#
# make              build/kptwatch (dynamic; STATIC=1 for a static binary)
# make deps         install the Debian packages the build and tests need
# make check        unit + bpf tiers (bpf needs root)
# make check-unit   no privileges
# make check-bpf    BPF_PROG_TEST_RUN on the running kernel, root
# make check-vm     the VM tier: builds/boots the kernel matrix (long)

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

.PHONY: all deps check check-unit check-bpf check-vm clean FORCE
.DELETE_ON_ERROR:
# Keep the BPF objects: the skeleton embeds them, and tests/bpf load them too.
.SECONDARY: $(BPF_OBJS)

all: $(BUILD)/kptwatch

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

# kptwatch with its test hooks compiled in, for tests/unit/test_cli.sh only
$(BUILD)/kptwatch-test: $(SRCS) $(wildcard src/*.h) $(wildcard include/*.h) $(SKELS) \
			$(BUILD)/link-flags
	$(CC) $(CFLAGS) -DKPT_TEST_HOOKS $(LDFLAGS) -o $@ $(SRCS) $(LIBS)

$(BUILD)/unit/%: tests/unit/%.c $(LIB_OBJS) $(wildcard tests/unit/*.h) | $(BUILD)/unit
	$(CC) $(CFLAGS) -Itests/unit -o $@ $< $(LIB_OBJS) $(LIBS)

$(BUILD)/test_bpf: $(BPFT_SRCS) $(wildcard tests/bpf/*.h) $(SKELS)
	$(CC) $(CFLAGS) -Itests/bpf -o $@ $(BPFT_SRCS) $(LIBS)

check: check-unit check-bpf

check-unit: $(UNIT_BINS) $(BUILD)/kptwatch $(BUILD)/kptwatch-test
	tests/unit/run.sh $(UNIT_BINS)

check-bpf: $(BUILD)/test_bpf
	$(BUILD)/test_bpf

check-vm: $(BUILD)/kptwatch
	tests/vm/check-vm.sh

clean:
	rm -rf $(BUILD)
