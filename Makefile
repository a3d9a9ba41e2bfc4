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
APT_PKGS   := libseccomp-dev busybox-static pkg-config gcc g++ util-linux golang-go strace
# The runc command is linked statically against musl when that Rust target
# is installed (`make deps` tries `rustup target add`): it starts in a third
# of the time of a glibc program. Otherwise it is the dynamic glibc build.
MUSL       := $(shell uname -m)-unknown-linux-musl
MUSL_OK     = $(shell d=$$(rustc --print target-libdir --target $(MUSL) 2>/dev/null) && ls "$$d" 2>/dev/null | grep -q '^libstd-' && echo yes)
CLI_REL     = $(if $(MUSL_OK),target/$(MUSL)/release/runc,$(REL)/runc)
CLI_DBG     = $(if $(MUSL_OK),target/$(MUSL)/debug/runc,$(DBG)/runc)
MUSL_DEPS  := target/musl-deps

.PHONY: cli-static fuzz test-e2e test-e2e-v2 bench all build debug lib pc deps install install-files uninstall test test-v2 capi-test check-header header demo clean

all: build

deps:
	@missing=""; for p in $(APT_PKGS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; fi
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (>= 1.82) with rustup first"; exit 1; }
	@if command -v rustup >/dev/null && ! rustup target list --installed 2>/dev/null | grep -qx $(MUSL); then \
	  timeout 300 rustup target add $(MUSL) >/dev/null 2>&1 || echo "note: rustup could not add $(MUSL): runc will be the dynamic glibc build"; fi

build: deps
	$(CARGO) build --release --workspace $(FEATURE_FLAGS)
	$(MAKE) --no-print-directory lib DIR=$(REL)
	$(MAKE) --no-print-directory cli-static PROFILE=--release

debug: deps
	$(CARGO) build --workspace $(FEATURE_FLAGS)
	$(MAKE) --no-print-directory lib DIR=$(DBG)
	$(MAKE) --no-print-directory cli-static PROFILE=

# The static runc: musl, with Debian's libseccomp.a (plus the one glibc
# symbol it needs, scripts/glibc-compat.c) linked in. (Cargo warns that the
# library's cdylib type is dropped for musl: only the runc binary is made.)
# Optimised for size: each command is a fresh exec whose time goes to
# faulting in code, and a third less code made run, state and exec 2-7%
# faster here and `run` 6-8% under an emulator (docs/PERFORMANCE.md). The
# library, which stays loaded in its caller, keeps the release profile's -O3.
cli-static:
	@if [ -n "$(MUSL_OK)" ]; then \
	  mkdir -p $(MUSL_DEPS) && cp $$(pkg-config --variable=libdir libseccomp)/libseccomp.a $(MUSL_DEPS)/libseccomp.a && \
	  $(CC) -O2 -fPIC -c -o $(MUSL_DEPS)/glibc-compat.o scripts/glibc-compat.c && ar rs $(MUSL_DEPS)/libseccomp.a $(MUSL_DEPS)/glibc-compat.o 2>/dev/null && \
	  CARGO_PROFILE_RELEASE_OPT_LEVEL=s LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH=$(CURDIR)/$(MUSL_DEPS) $(CARGO) build $(PROFILE) -p runc-cli --target $(MUSL) $(FEATURE_FLAGS); \
	else echo "cli-static: the $(MUSL) Rust target is not installed; runc is $(if $(PROFILE),$(REL),$(DBG))/runc (dynamic)"; fi

# The C library in DIR/lib: librunc.so.VERSION (SONAME librunc.so.1, only
# runc_* exported under the LIBRUNC_1.0 version node), its two links, the
# static archive, and a pkg-config file for the build tree in DIR/pkgconfig.
LIBDEPS := -lseccomp -lgcc_s -lutil -lrt -lpthread -lm -ldl
lib:
	@mkdir -p $(DIR)/lib
	$(CC) -shared -o $(DIR)/lib/librunc.so.$(VERSION) -Wl,--whole-archive $(DIR)/librunc.a -Wl,--no-whole-archive \
	  -Wl,-soname,librunc.so.1 -Wl,--version-script=src/capi/version.map -Wl,--gc-sections $(LIBDEPS)
	@ln -sf librunc.so.$(VERSION) $(DIR)/lib/librunc.so.1 && ln -sf librunc.so.1 $(DIR)/lib/librunc.so && cp $(DIR)/librunc.a $(DIR)/lib/
	@$(MAKE) --no-print-directory pc DIR=$(CURDIR)/$(DIR)/lib OUT=$(DIR)/pkgconfig

# A pkg-config file for the build tree (DIR = library dir) in OUT.
pc:
	@mkdir -p $(OUT)
	@sed -e 's|@PREFIX@|$(CURDIR)|; s|@LIBDIR@|$(DIR)|; s|@INCLUDEDIR@|$(CURDIR)/include|' \
	     -e 's|@VERSION@|$(VERSION)|; s|@SPEC@|$(SPEC)|; s|@PRIVATE_LIBS@|$(PRIVATE_LIBS)|' pkgconfig/librunc.pc.in > $(OUT)/librunc.pc

install: build
	$(MAKE) --no-print-directory install-files BUILD=$(REL) CLI=$(CLI_REL)

# Copies the built files (BUILD = target/release or target/debug) under DESTDIR.
BUILD ?= $(REL)
CLI ?= $(BUILD)/runc
install-files:
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	install -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/runc
	install -m 0755 $(BUILD)/lib/librunc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/librunc.so.$(VERSION)
	ln -sf librunc.so.$(VERSION) $(DESTDIR)$(LIBDIR)/librunc.so.1
	ln -sf librunc.so.1 $(DESTDIR)$(LIBDIR)/librunc.so
	install -m 0644 $(BUILD)/lib/librunc.a $(DESTDIR)$(LIBDIR)/librunc.a
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
	RUNC_BIN=$(CURDIR)/$(CLI_DBG) $(CARGO) test --workspace $(FEATURE_FLAGS) -- $(TESTFILTER)
	@if [ -z "$(TESTFILTER)" ]; then $(MAKE) --no-print-directory capi-test check-header; fi
	$(MAKE) --no-print-directory test-v2

# The container tests again on pure cgroup v2: this host is hybrid, so they
# run in a VM (../shared/vm/run-in-vm) with the binaries built here, each
# under scripts/vm-test.sh (a stall is shown and stopped after 600 s). The
# library's unit tests go too: the VM's 6.1 kernel lacks statmount, so they
# cover the mountinfo path there.
VM ?= $(abspath ../shared/vm/run-in-vm)
V2_TESTS := -p librunc --lib --test cgroups --test lifecycle --test run --test hooks
test-v2: debug
	@if [ -x "$(VM)" ]; then \
	  RUNC_BIN=$(CURDIR)/$(CLI_DBG) CARGO_TARGET_X86_64_UNKNOWN_LINUX_GNU_RUNNER="$(CURDIR)/scripts/vm-test.sh $(VM) 600" $(CARGO) test $(FEATURE_FLAGS) $(V2_TESTS) -- $(TESTFILTER); \
	else echo "test-v2: $(VM) not found: the cgroup v2 tests were not run"; fi

# The C API as a C programmer meets it: built with pkg-config against the
# build tree, against an install in a temporary DESTDIR, statically, from
# C++ and from Go (cgo); the exported symbols must match capi-tests/symbols.txt.
CFLAGS_TEST := -std=c99 -Wall -Wextra -pedantic -Werror
capi-test: debug
	@set -e; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	export PKG_CONFIG_PATH=$(CURDIR)/$(DBG)/pkgconfig; \
	RUNC=$(DBG)/runc sh scripts/make-bundle.sh $$tmp/bundle sh -c 'exit 7' >/dev/null; \
	rootfs=$$tmp/bundle/rootfs; \
	for t in lifecycle threads sideeffects; do \
	  $(CC) $(CFLAGS_TEST) -D_GNU_SOURCE -o $$tmp/$$t capi-tests/$$t.c $$(pkg-config --cflags --libs librunc) -lpthread; done; \
	echo "== lifecycle"; LD_LIBRARY_PATH=$(CURDIR)/$(DBG)/lib $$tmp/lifecycle $$tmp/state $$rootfs $$tmp/bundle; \
	echo "== threads"; LD_LIBRARY_PATH=$(CURDIR)/$(DBG)/lib $$tmp/threads $$tmp/state $$rootfs; \
	echo "== side effects"; LD_LIBRARY_PATH=$(CURDIR)/$(DBG)/lib $$tmp/sideeffects $$tmp/state $$rootfs; \
	echo "== static"; $(CC) $(CFLAGS_TEST) -D_GNU_SOURCE -o $$tmp/lifecycle-static capi-tests/lifecycle.c $$(pkg-config --cflags librunc) \
	  -Wl,-Bstatic -L$(CURDIR)/$(DBG)/lib -lrunc -Wl,-Bdynamic $$(pkg-config --static --libs-only-l librunc | sed 's/-lrunc//'); \
	! ldd $$tmp/lifecycle-static | grep -q librunc; $$tmp/lifecycle-static $$tmp/state $$rootfs $$tmp/bundle; \
	echo "== C++"; $(CXX) -std=c++11 -Wall -Wextra -pedantic -Werror -fsyntax-only -I include capi-tests/header.cc && echo "1 passed, 0 failed"; \
	echo "== installed"; $(MAKE) --no-print-directory install-files BUILD=$(DBG) DESTDIR=$$tmp/dest PREFIX=/usr >/dev/null; \
	PKG_CONFIG_PATH=$$tmp/dest/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$$tmp/dest \
	  $(CC) $(CFLAGS_TEST) -D_GNU_SOURCE -o $$tmp/lifecycle-inst capi-tests/lifecycle.c \
	  $$(PKG_CONFIG_PATH=$$tmp/dest/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$$tmp/dest pkg-config --cflags --libs librunc); \
	LD_LIBRARY_PATH=$$tmp/dest/usr/lib $$tmp/lifecycle-inst $$tmp/state $$rootfs $$tmp/bundle; \
	test -L $$tmp/dest/usr/lib/librunc.so && test -L $$tmp/dest/usr/lib/librunc.so.1; \
	echo "== symbols"; objdump -T $(DBG)/lib/librunc.so.1 | awk '$$2 == "g" && $$4 == ".text" {print $$6, $$7}' | sort > $$tmp/syms; \
	if grep -v '^LIBRUNC_1.0 ' $$tmp/syms | grep -q .; then echo "symbols outside LIBRUNC_1.0:"; grep -v '^LIBRUNC_1.0 ' $$tmp/syms; exit 1; fi; \
	objdump -p $(DBG)/lib/librunc.so.1 | grep -q 'SONAME *librunc.so.1'; \
	awk '{print $$2}' $$tmp/syms | diff -u capi-tests/symbols.txt - && echo "1 passed, 0 failed"; \
	echo "== go (cgo)"; if command -v go >/dev/null; then \
	  (cd capi-tests/go && GOFLAGS=-mod=mod GOPROXY=off go build -o $$tmp/gorunc .) && LD_LIBRARY_PATH=$(CURDIR)/$(DBG)/lib $$tmp/gorunc $$tmp/state $$rootfs; \
	else echo "go not installed (apt-get install golang-go)"; exit 1; fi

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
	@RUNC=$(CLI_REL) sh scripts/make-bundle.sh target/demo
	@echo "== runc start in target/demo (2015 config.json + runtime.json; 'exit' leaves) =="
	@cd target/demo && if [ -t 0 ]; then ../../$(CLI_REL) --root $(CURDIR)/target/demo-state start; \
	else printf 'echo hello from librunc\nps\nexit\n' | ../../$(CLI_REL) --root $(CURDIR)/target/demo-state start; fi

# Real engines through our runtime (podman + conmon so far); RUNTIMES adds
# others side by side, e.g. make test-e2e RUNTIMES=/usr/sbin/runc
# The engines drive the release runc, the one `make install` installs
# (`make test` uses the debug build, with its overflow checks).
test-e2e: build
	bash tests/e2e/podman.sh $(CLI_REL) $(RUNTIMES)
	bash tests/e2e/containerd.sh $(CLI_REL) $(RUNTIMES)
	bash tests/e2e/docker.sh $(CLI_REL) $(RUNTIMES)

# podman and containerd again on pure cgroup v2, in the VM.
test-e2e-v2: build
	@if [ -x "$(VM)" ]; then \
	  $(VM) --timeout 1200 --mem 4G -- sh -c 'bash tests/e2e/podman.sh $(CLI_REL) && bash tests/e2e/containerd.sh $(CLI_REL)'; \
	else echo "test-e2e-v2: $(VM) not found: the cgroup v2 end-to-end tests were not run"; fi

# Fuzz the config parser (modern and 2015) with libFuzzer on the stable
# toolchain: coverage flags by hand, no cargo-fuzz (it needs nightly).
FUZZ_SECONDS ?= 60
FUZZ_FLAGS := -Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
  -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
  -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing
fuzz:
	cd fuzz && RUSTFLAGS="$(FUZZ_FLAGS)" $(CARGO) build --release --target x86_64-unknown-linux-gnu --bin config
	mkdir -p fuzz/corpus/config && cp -n fuzz/seeds/config/* fuzz/corpus/config/
	fuzz/target/x86_64-unknown-linux-gnu/release/config -max_total_time=$(FUZZ_SECONDS) -max_len=65536 fuzz/corpus/config

# Side-by-side timings against Debian's runc and crun (hyperfine); not a test.
bench: build
	RUNC_BIN=$(CURDIR)/$(CLI_REL) bash bench/run.sh

clean:
	$(CARGO) clean
