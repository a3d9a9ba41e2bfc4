# librunc: build, install, test. See README.md.
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/sbin
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
DESTDIR    ?=
CARGO      ?= cargo
CC         ?= cc
# Cargo features, like the 2015 build tags: seccomp (default), selinux, apparmor.
FEATURES   ?= seccomp
# Test filter; the 2015 form TESTFLAGS="-run=Name" works too.
TESTFLAGS  ?=

VERSION    := $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)
SPEC       := 1.3.0
PRIVATE_LIBS := -lseccomp -lgcc_s -lutil -lrt -lpthread -lm -ldl -lc
FEATURE_FLAGS := --no-default-features --features "$(FEATURES)"
REL        := target/release
DBG        := target/debug
TESTFILTER := $(patsubst -run=%,%,$(TESTFLAGS))
APT_PKGS   := libseccomp-dev busybox-static pkg-config gcc util-linux

.PHONY: all build debug deps install uninstall test test-v2 capi-test check-header header demo clean

all: build

deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (>= 1.82) with rustup first"; exit 1; }

build: deps
	$(CARGO) build --release --workspace $(FEATURE_FLAGS)
	ln -sf librunc.so $(REL)/librunc.so.1
	$(MAKE) --no-print-directory pc DIR=$(CURDIR)/$(REL) OUT=$(REL)/pkgconfig

debug: deps
	$(CARGO) build --workspace $(FEATURE_FLAGS)
	ln -sf librunc.so $(DBG)/librunc.so.1
	$(MAKE) --no-print-directory pc DIR=$(CURDIR)/$(DBG) OUT=$(DBG)/pkgconfig

# A pkg-config file for the build tree (DIR = library dir) in OUT.
pc:
	@mkdir -p $(OUT)
	@sed -e 's|@PREFIX@|$(CURDIR)|; s|@LIBDIR@|$(DIR)|; s|@INCLUDEDIR@|$(CURDIR)/include|' \
	     -e 's|@VERSION@|$(VERSION)|; s|@SPEC@|$(SPEC)|; s|@PRIVATE_LIBS@|$(PRIVATE_LIBS)|' pkgconfig/librunc.pc.in > $(OUT)/librunc.pc

install: build
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0755 $(REL)/runc $(DESTDIR)$(BINDIR)/runc
	install -m 0755 $(REL)/librunc.so $(DESTDIR)$(LIBDIR)/librunc.so.$(VERSION)
	ln -sf librunc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/librunc.so.1
	ln -sf librunc.so.1 $(DESTDIR)$(LIBDIR)/librunc.so
	install -m 0644 $(REL)/librunc.a $(DESTDIR)$(LIBDIR)/librunc.a
	install -m 0644 include/runc.h $(DESTDIR)$(INCLUDEDIR)/runc.h
	sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCLUDEDIR@|$(INCLUDEDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|; s|@SPEC@|$(SPEC)|; s|@PRIVATE_LIBS@|$(PRIVATE_LIBS)|' \
	    pkgconfig/librunc.pc.in > $(DESTDIR)$(PKGCONFIGDIR)/librunc.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/runc $(DESTDIR)$(LIBDIR)/librunc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/librunc.so.1 \
	      $(DESTDIR)$(LIBDIR)/librunc.so $(DESTDIR)$(LIBDIR)/librunc.a $(DESTDIR)$(INCLUDEDIR)/runc.h \
	      $(DESTDIR)$(PKGCONFIGDIR)/librunc.pc

# Everything: Rust unit and integration tests (real containers, as root),
# the C API tests and the header check. TESTFLAGS filters the Rust tests.
test: debug
	$(CARGO) test --workspace $(FEATURE_FLAGS) -- $(TESTFILTER)
	@if [ -z "$(TESTFILTER)" ]; then $(MAKE) --no-print-directory capi-test check-header; fi
	$(MAKE) --no-print-directory test-v2

# The container tests again on pure cgroup v2: this host is hybrid, so they
# run in a VM (../shared/vm/run-in-vm) with the binaries built here.
VM ?= $(abspath ../shared/vm/run-in-vm)
V2_TESTS := --test cgroups --test lifecycle --test run --test hooks
test-v2: debug
	@if [ -x "$(VM)" ]; then \
	  CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="$(VM) --timeout 1200 --" $(CARGO) test $(FEATURE_FLAGS) $(V2_TESTS) -- $(TESTFILTER); \
	else echo "test-v2: $(VM) not found: the cgroup v2 tests were not run"; fi

capi-test: debug
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export PKG_CONFIG_PATH=$(CURDIR)/$(DBG)/pkgconfig; \
	$(CC) -std=c99 -Wall -Wextra -pedantic -Werror -o $$tmp/smoke capi-tests/smoke.c $$(pkg-config --cflags --libs librunc); \
	RUNC=$(DBG)/runc sh scripts/make-bundle.sh $$tmp/bundle sh -c 'exit 7' >/dev/null; \
	LD_LIBRARY_PATH=$(CURDIR)/$(DBG) $$tmp/smoke $$tmp/state $$tmp/bundle

header:
	RUNC_HEADER_OUT=$(CURDIR)/include/runc.h $(CARGO) build -p librunc

check-header:
	@tmp=$$(mktemp); RUNC_HEADER_OUT=$$tmp $(CARGO) build -q -p librunc && \
	if cmp -s $$tmp include/runc.h; then echo "include/runc.h is current"; rm -f $$tmp; \
	else echo "include/runc.h is stale: run 'make header'"; diff -u include/runc.h $$tmp | head -40; rm -f $$tmp; exit 1; fi

# Build, then run the 2015 README's example bundle (examples/seed) with
# `runc start` in the bundle directory: an interactive sh (scripted when
# stdin is not a terminal).
demo: build
	@rm -rf target/demo && mkdir -p target/demo && cp examples/seed/config.json examples/seed/runtime.json target/demo/
	@RUNC=$(REL)/runc sh scripts/make-bundle.sh target/demo
	@echo "== runc start in target/demo (2015 config.json + runtime.json; 'exit' leaves) =="
	@cd target/demo && if [ -t 0 ]; then ../../$(REL)/runc --root $(CURDIR)/target/demo-state start; \
	else printf 'echo hello from librunc\nps\nexit\n' | ../../$(REL)/runc --root $(CURDIR)/target/demo-state start; fi

clean:
	$(CARGO) clean
