# scopefs: `make` builds the daemon and the plugins, `make test` runs every
# test (installing what it needs), `make asan` the same under ASan+UBSan,
# `make bench` the benchmark, `make fuzz` the fuzz targets (tests/fuzz),
# `make install PREFIX=...` installs.

VERSION    := 0.1.0
PREFIX     ?= /usr/local
# mount(8) looks for mount.TYPE helpers in /sbin only.
SBINDIR    ?= /sbin
LIBDIR     ?= $(PREFIX)/lib
PLUGINDIR  ?= $(LIBDIR)/scopefs/plugins
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
MANDIR     ?= $(PREFIX)/share/man
# Output directory: "." for the normal build, build-asan for `make asan`.
O          ?= .
SAN        ?=

CC       ?= gcc
PKGS     := fuse3 inih
# Read once per make.  The targets a user types (all, test, run, ...) first
# run scripts/install-deps.sh and then build in a sub-make, which reads
# these afresh, so a fresh machine builds on the first run.
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -Wall -Wextra -Werror -D_GNU_SOURCE -D_FILE_OFFSET_BITS=64 \
            -fPIC -Iinclude -Icore $(PKG_CFLAGS)
CPPFLAGS += -DSCOPEFS_VERSION='"$(VERSION)"' -DSCOPEFS_PLUGINDIR='"$(PLUGINDIR)"'
# json-c: the --json reports of usage and gc (included as <json-c/...>,
# so its header directory, which has a debug.h, stays off -I).
LDLIBS   := $(PKG_LIBS) -ldl -lpthread -ljson-c
ifneq ($(SAN),)
CFLAGS   += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS  += -fsanitize=address,undefined
endif

OBJ        := $(O)/.obj
CORE_SRC   := $(wildcard core/*.c)
CORE_OBJ   := $(CORE_SRC:%.c=$(OBJ)/%.o)
# Everything but main(), for the unit tests to link against.
CORE_LIB   := $(filter-out $(OBJ)/core/main.o,$(CORE_OBJ))
# plugins/common holds code that several plugins link in (HTTP, ...).
PLUGINS    := $(filter-out common,$(notdir $(wildcard plugins/*)))
PLUGIN_SO  := $(foreach p,$(PLUGINS),$(O)/plugins/$(p)/scopefs-$(p).so)
TEST_SRC   := $(wildcard tests/unit/*.c tests/integration/*.c)
TEST_BIN   := $(TEST_SRC:tests/%.c=$(O)/tests/bin/%)
TEST_HELPERS := $(patsubst tests/helpers/%.c,$(O)/tests/bin/helpers/%,$(wildcard tests/helpers/*.c))

.PHONY: all build deps check-deps test build-tests asan bench install uninstall clean run
# Each entry point installs what it needs, then builds in a sub-make (see
# PKG_CFLAGS above).
all: deps
	@$(MAKE) --no-print-directory build
build: $(O)/scopefs $(PLUGIN_SO) $(O)/scopefs-plugin.pc

deps:
	@scripts/install-deps.sh build

# Every object waits for this (order-only), so a build without the
# libraries stops with one clear line instead of a page of link errors.
check-deps:
	@pkg-config --exists $(PKGS) || { echo "make: the libraries $(PKGS)" \
		"are not installed (pkg-config finds no $(PKGS)); run 'make deps'" \
		"(as root: it uses apt-get)" >&2; exit 1; }

$(OBJ)/%.o: %.c $(wildcard include/scopefs/*.h core/*.h plugins/common/*.h) | check-deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

# No -rdynamic: plugins reach the core only through struct scopefs_host,
# so the daemon exports no symbol a plugin could bind to by name.
$(O)/scopefs: $(CORE_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# A plugin is every .c file in plugins/NAME; plugins/NAME/plugin.mk may set
# NAME_LIBS (e.g. s3_LIBS := -lcurl) and NAME_SRCS (extra sources, such as
# plugins/common/http.c).
-include $(wildcard plugins/*/plugin.mk)
define plugin_rule
$(O)/plugins/$(1)/scopefs-$(1).so: $(patsubst %.c,$(OBJ)/%.o,$(wildcard plugins/$(1)/*.c) $($(1)_SRCS))
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) -shared -o $$@ $$^ $$($(1)_LIBS)
endef
$(foreach p,$(PLUGINS),$(eval $(call plugin_rule,$(p))))

# The fuzz targets (make fuzz, make fuzz-smoke; see tests/fuzz/README.md).
include tests/fuzz/fuzz.mk

# The in-tree .pc points at the source tree's include/, so an out-of-tree
# plugin can build against a checkout; `make install` writes its own.
PC_SED = sed -e 's|@PREFIX@|$(1)|; s|@INCLUDEDIR@|$(2)|; s|@PLUGINDIR@|$(3)|; s|@VERSION@|$(VERSION)|'
$(O)/scopefs-plugin.pc: scopefs-plugin.pc.in Makefile
	@mkdir -p $(dir $@)
	$(call PC_SED,$(CURDIR),$(CURDIR)/include,$(CURDIR)/plugins) $< > $@

# Tests: each tests/{unit,integration}/X.c is one Criterion binary linked
# with the core (minus main); tests/helpers/X.c are plain client programs.
$(O)/tests/bin/%: tests/%.c $(CORE_LIB) $(wildcard tests/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -Itests $(LDFLAGS) -o $@ $< $(CORE_LIB) $(LDLIBS) -lcriterion
$(O)/tests/bin/helpers/%: tests/helpers/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

build-tests: build $(TEST_BIN) $(TEST_HELPERS)

test:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory build-tests build-fuzz
	O=$(O) tests/run.sh

asan:
	@scripts/install-deps.sh test
	@$(MAKE) --no-print-directory O=build-asan SAN=1 build-tests
	O=build-asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp tests/run.sh

bench:
	@scripts/install-deps.sh bench
	@$(MAKE) --no-print-directory build
	bench/run.sh

# Mount the default local config (etc/scopefs-local.conf) under $(MNT).
MNT ?= /tmp/scopefs
run: all
	scripts/run-local.sh $(MNT)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PLUGINDIR) \
		$(DESTDIR)$(INCLUDEDIR)/scopefs $(DESTDIR)$(PKGCONFIGDIR)
	install -m 755 $(O)/scopefs $(DESTDIR)$(PREFIX)/bin/scopefs
	install -d $(DESTDIR)$(SBINDIR)
	ln -sf $(PREFIX)/bin/scopefs $(DESTDIR)$(SBINDIR)/mount.scopefs
	ln -sf $(PREFIX)/bin/scopefs $(DESTDIR)$(SBINDIR)/mount.fuse.scopefs
	install -m 755 $(PLUGIN_SO) $(DESTDIR)$(PLUGINDIR)/
	install -m 644 include/scopefs/plugin.h $(DESTDIR)$(INCLUDEDIR)/scopefs/
	$(call PC_SED,$(PREFIX),$(INCLUDEDIR),$(PLUGINDIR)) scopefs-plugin.pc.in \
		> $(DESTDIR)$(PKGCONFIGDIR)/scopefs-plugin.pc
	install -d $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man3
	install -m 644 docs/man/scopefs.8 $(DESTDIR)$(MANDIR)/man8/
	install -m 644 docs/man/scopefs.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 644 docs/man/scopefs-plugin.3 $(DESTDIR)$(MANDIR)/man3/

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/scopefs $(DESTDIR)$(PKGCONFIGDIR)/scopefs-plugin.pc
	rm -f $(DESTDIR)$(SBINDIR)/mount.scopefs $(DESTDIR)$(SBINDIR)/mount.fuse.scopefs
	rm -rf $(DESTDIR)$(PLUGINDIR) $(DESTDIR)$(INCLUDEDIR)/scopefs
	rm -f $(DESTDIR)$(MANDIR)/man8/scopefs.8 \
		$(DESTDIR)$(MANDIR)/man5/scopefs.conf.5 \
		$(DESTDIR)$(MANDIR)/man3/scopefs-plugin.3

clean:
	rm -rf .obj scopefs scopefs-plugin.pc plugins/*/*.so tests/bin build-asan
