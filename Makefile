# mercuryctl - build, test, install.
#
#   make run        install what is missing, build, run `mercuryctl health`
#   make check      install what is missing, build, start the test servers on
#                   loopback, run every test, stop the servers
#   make asan       the same suite under AddressSanitizer + UBSan
#   make valgrind   the same suite under valgrind (slow: each test process
#                   pays valgrind's start-up; up to an hour on 2 shared cores)
#   make bench      benchmarks, written to docs/BENCHMARKS.md
#   make fuzz       libFuzzer targets (clang), each for FUZZ_SECONDS
#   make docs       regenerate man/ and completions/ from the command table
#   make install PREFIX=/usr/local DESTDIR=   /   make uninstall

VERSION  := 0.1.0
PREFIX   ?= /usr/local
DESTDIR  ?=
BINDIR   := $(PREFIX)/bin
MANDIR   := $(PREFIX)/share/man
BASHDIR  := $(PREFIX)/share/bash-completion/completions
ZSHDIR   := $(PREFIX)/share/zsh/vendor-completions
FISHDIR  := $(PREFIX)/share/fish/vendor_completions.d
# The example units, installed disabled (nothing enabled, nothing started).
SYSTEMDDIR := $(PREFIX)/lib/systemd/system
UNITS    := mercuryctl-health.service mercuryctl-health.timer

B        ?= build
# `make V=1` shows the full commands.
V        ?= 0
Q         = $(if $(filter 1,$(V)),,@)
say       = $(if $(filter 1,$(V)),,@printf '  %-6s %s\n' $(1) $(2))
CC       ?= cc
# libcurl is not linked into mercuryctl nor the unit tests: lib/curl_lazy.c
# loads it on first use (its headers are still needed). Nor is libcrypto:
# lib/crypto_lazy.c loads it on first use (its headers are still needed).
PKGS     := sqlite3 jansson inih libcrypto
LINK_PKGS := $(filter-out libcrypto,$(PKGS))
# Not linked either: lib/lazylib.c loads these on first use (only the Redis,
# tcp and backup paths call them); their headers are needed, and the
# sonames the build finds are the ones loaded.
LAZY_PKGS := hiredis libcares libzstd
soname    = $(shell objdump -p "$$($(CC) -print-file-name=lib$(1).so)" 2>/dev/null | \
              awk '$$1 == "SONAME" { print $$2 }')
LAZY_SONAMES := $(foreach l,HIREDIS:hiredis ARES:cares ZSTD:zstd,\
	$(if $(call soname,$(word 2,$(subst :, ,$(l)))),\
	-DMC_$(word 1,$(subst :, ,$(l)))_SONAME='"$(call soname,$(word 2,$(subst :, ,$(l))))"'))
CURL_CFLAGS = $(shell pkg-config --cflags libcurl 2>/dev/null)
SANITIZE ?=
OPT      ?= -O2

# pkg-config runs only when a target needs it, so `make deps` works on a
# machine that has none of the libraries yet.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) $(LAZY_PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(LINK_PKGS) 2>/dev/null)
CRIT_LIBS  = $(shell pkg-config --libs criterion 2>/dev/null)

WARN     := -Wall -Wextra -Werror -Wshadow -Wvla -Wpointer-arith \
            -Wformat=2 -Wstrict-prototypes -Wmissing-prototypes
# inih has no run-time version call: `mercuryctl version` shows the build's.
INIH_VERSION = $(shell pkg-config --modversion inih 2>/dev/null)
CPPFLAGS += -D_GNU_SOURCE -DMC_VERSION='"$(VERSION)"' -Ilib -Icmd \
            -DMC_INIH_VERSION='"$(INIH_VERSION)"' $(LAZY_SONAMES)

CFLAGS   ?= $(OPT) -g
ALL_CFLAGS = -std=c11 -pthread $(WARN) $(CFLAGS) $(SANITIZE) -MMD -MP $(PKG_CFLAGS) \
             $(CURL_CFLAGS)
TEST_CFLAGS = -std=c11 -pthread -Wall -Wextra -Werror $(CFLAGS) $(SANITIZE) -MMD -MP \
              $(PKG_CFLAGS) $(CURL_CFLAGS)
LDLIBS_ALL = $(PKG_LIBS) -lm -pthread

LIB_SRC  := $(sort $(wildcard lib/*.c))
CMD_SRC  := $(sort $(wildcard cmd/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c)) tests/testlib.c
LIB_OBJ  := $(LIB_SRC:%.c=$(B)/%.o)
CMD_OBJ  := $(CMD_SRC:%.c=$(B)/%.o)
TABLE_OBJ := $(filter-out $(B)/cmd/main.o,$(CMD_OBJ))
TEST_OBJ := $(TEST_SRC:%.c=$(B)/%.o)

BIN      := $(B)/mercuryctl
LIBA     := $(B)/libmercury.a
UNIT     := $(B)/unit-tests
GENDOC   := $(B)/gendoc

.PHONY: all deps deps-build run check test asan valgrind bench fuzz docs install \
        uninstall clean
.DEFAULT_GOAL := all

all: $(BIN)

deps:
	@scripts/deps.sh test

deps-build:
	@scripts/deps.sh build

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(B)/tests/%.o: tests/%.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(TEST_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJ)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)ar rcs $@ $^

$(BIN): $(CMD_OBJ) $(LIBA)
	$(call say,LINK,$@)
	$(Q)$(CC) $(SANITIZE) -o $@ $(CMD_OBJ) $(LIBA) $(LDLIBS_ALL)

$(UNIT): $(TEST_OBJ) $(TABLE_OBJ) $(LIBA)
	$(call say,LINK,$@)
	$(Q)$(CC) $(SANITIZE) -o $@ $(TEST_OBJ) $(TABLE_OBJ) $(LIBA) $(LDLIBS_ALL) \
		$(CRIT_LIBS)

# gendoc prints the man pages and completions from the command table; `make
# docs` writes them into the tree and the tests compare the tree with it.
$(GENDOC): $(B)/tests/gendoc.o $(TABLE_OBJ) $(LIBA)
	$(call say,LINK,$@)
	$(Q)$(CC) $(SANITIZE) -o $@ $^ $(LDLIBS_ALL)

$(B)/tests/gendoc.o: tests/gendoc.c
	@mkdir -p $(dir $@)
	$(call say,CC,$<)
	$(Q)$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

run: deps-build
	@$(MAKE) --no-print-directory all
	@echo "+ $(BIN) health"
	@$(BIN) health

test: $(BIN) $(UNIT) $(GENDOC)
	@scripts/check-layers.sh
	@scripts/check-json.sh
	@MC_BUILD=$(B) scripts/test.sh

check: deps
	@$(MAKE) --no-print-directory test

asan: deps
	@$(MAKE) --no-print-directory test B=build-asan OPT=-O1 \
		SANITIZE='-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer'

valgrind: deps
	@$(MAKE) --no-print-directory $(BIN) $(UNIT) $(GENDOC)
	@MC_BUILD=$(B) MC_VALGRIND=1 scripts/test.sh

bench:
	@scripts/deps.sh bench
	@$(MAKE) --no-print-directory all
	@MC_BUILD=$(B) scripts/bench.sh

fuzz: deps
	@MC_BUILD=build-fuzz scripts/fuzz.sh

docs: $(GENDOC)
	$(GENDOC) write .

install: $(BIN)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(BASHDIR) \
		$(DESTDIR)$(ZSHDIR) $(DESTDIR)$(FISHDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/mercuryctl
	install -m 0644 man/*.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 man/*.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 completions/mercuryctl.bash \
		$(DESTDIR)$(BASHDIR)/mercuryctl
	install -m 0644 completions/_mercuryctl $(DESTDIR)$(ZSHDIR)/_mercuryctl
	install -m 0644 completions/mercuryctl.fish \
		$(DESTDIR)$(FISHDIR)/mercuryctl.fish
	install -d $(DESTDIR)$(SYSTEMDDIR)
	for u in $(UNITS); do \
		sed 's|/usr/local/bin/mercuryctl|$(BINDIR)/mercuryctl|g' \
			scripts/examples/$$u >$(DESTDIR)$(SYSTEMDDIR)/$$u && \
		chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/$$u || exit 1; \
	done

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/mercuryctl
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(wildcard man/*.1)))
	rm -f $(addprefix $(DESTDIR)$(MANDIR)/man5/,$(notdir $(wildcard man/*.5)))
	rm -f $(DESTDIR)$(BASHDIR)/mercuryctl $(DESTDIR)$(ZSHDIR)/_mercuryctl \
		$(DESTDIR)$(FISHDIR)/mercuryctl.fish
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,$(UNITS))

clean:
	rm -rf build build-asan build-fuzz

-include $(LIB_OBJ:.o=.d) $(CMD_OBJ:.o=.d) $(TEST_OBJ:.o=.d) \
	$(B)/tests/gendoc.d
