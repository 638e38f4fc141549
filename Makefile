# writebehind — build, test, bench, install.  `make help` lists the targets.
CC        ?= cc
CXX       ?= c++
CFLAGS    ?= -O2 -g
PREFIX    ?= /usr/local
DESTDIR   ?=
# Installed layout.  LIBDIR may be multiarch (make install LIBDIR=/usr/lib/x86_64-linux-gnu);
# the wrapper also looks for the library relative to itself, so a relocated tree works.
BINDIR    ?= $(PREFIX)/bin
LIBDIR    ?= $(PREFIX)/lib
PKGLIBDIR ?= $(LIBDIR)/writebehind
MANDIR    ?= $(PREFIX)/share/man
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
DOCDIR    ?= $(PREFIX)/share/doc/writebehind
STRIP     ?= strip
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)
BUILD     ?= build
# SANITIZER=address or SANITIZER=thread builds everything instrumented.
SANITIZER ?=
VERSION   := 0.1.0

WARN      := -Wall -Wextra -Werror
SAN_address := -fsanitize=address,undefined -fno-omit-frame-pointer
SAN_thread  := -fsanitize=thread
SANFLAGS  := $(if $(SANITIZER),$(SAN_$(SANITIZER)))
LIB_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) -fPIC -fvisibility=hidden -pthread $(SANFLAGS) $(CFLAGS) \
              -DWB_VERSION='"$(VERSION)"'
LIB_LDLIBS := -ldl -pthread

LIB_SRC   := $(wildcard src/*.c)
LIB_OBJ   := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC))
LIB       := $(BUILD)/libwritebehind.so
# The same library with the kernel's answers scriptable (src/real.c), for tests.
LIB_FAULTS := $(BUILD)/libwritebehind-faults.so
CLI       := $(BUILD)/writebehind
HELPERS   := $(patsubst tests/helpers/%.c,$(BUILD)/helpers/%,$(wildcard tests/helpers/*.c))
BENCHES   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(filter-out bench/empty_preload.c,$(wildcard bench/*.c)))
# A preload with nothing in it: the baseline of bench/harm.sh's per-process rows.
EMPTY_PRELOAD := $(BUILD)/bench/empty_preload.so

.PHONY: all demo test test-asan test-tsan bench install uninstall deb clean help
all: $(LIB) $(LIB_FAULTS) $(CLI) $(HELPERS) $(BENCHES) $(EMPTY_PRELOAD)

$(BUILD)/obj/%.o: src/%.c src/*.h | $(BUILD)/obj
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	$(CC) $(LIB_CFLAGS) -shared -Wl,-z,defs -o $@ $^ $(LIB_LDLIBS)

$(BUILD)/obj/real-faults.o: src/real.c src/*.h | $(BUILD)/obj
	$(CC) $(LIB_CFLAGS) -DWB_FAULT_INJECTION -c $< -o $@

$(LIB_FAULTS): $(filter-out $(BUILD)/obj/real.o,$(LIB_OBJ)) $(BUILD)/obj/real-faults.o
	$(CC) $(LIB_CFLAGS) -shared -Wl,-z,defs -o $@ $^ $(LIB_LDLIBS)

# The wrapper (src/cli/) links the library's parser object, nothing else of it.
CLI_SRC   := $(wildcard src/cli/*.c)
CLI_OBJ   := $(patsubst src/cli/%.c,$(BUILD)/obj/cli/%.o,$(CLI_SRC)) $(BUILD)/obj/parse.o
CLI_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARN) $(SANFLAGS) $(CFLAGS) -DWB_VERSION='"$(VERSION)"' \
              -DWB_PKGLIBDIR='"$(PKGLIBDIR)"' -DWB_MULTIARCH='"$(MULTIARCH)"'

$(BUILD)/obj/cli/%.o: src/cli/%.c src/cli/cli.h src/parse.h | $(BUILD)/obj/cli
	$(CC) $(CLI_CFLAGS) -c $< -o $@

$(CLI): $(CLI_OBJ)
	$(CC) $(CLI_CFLAGS) -o $@ $^

# -lrt: POSIX AIO (difftest) lives in librt before glibc 2.34.
$(BUILD)/helpers/%: tests/helpers/%.c tests/helpers/*.h | $(BUILD)/helpers
	$(CC) -std=gnu11 $(WARN) $(SANFLAGS) $(CFLAGS) -pthread -o $@ $< -pthread -lrt

$(BUILD)/bench/%: bench/%.c | $(BUILD)/bench
	$(CC) -std=gnu11 $(WARN) -O2 -g -pthread -o $@ $< -pthread

$(EMPTY_PRELOAD): bench/empty_preload.c | $(BUILD)/bench
	$(CC) -std=gnu11 $(WARN) -O2 -fPIC -shared -o $@ $<

$(BUILD) $(BUILD)/obj $(BUILD)/obj/cli $(BUILD)/helpers $(BUILD)/bench:
	mkdir -p $@

demo: all
	bench/demo.sh $(BUILD)

test: all
	BUILD=$(abspath $(BUILD)) SANITIZER=$(SANITIZER) bats --tap tests

test-asan:
	$(MAKE) BUILD=build-asan SANITIZER=address test

test-tsan:
	$(MAKE) BUILD=build-tsan SANITIZER=thread test

bench: all
	bench/run.sh $(BUILD)

# ---- install, uninstall, deb --------------------------------------------
# The library is installed stripped (strip --strip-unneeded keeps the dynamic
# symbols it exports; STRIP=true keeps the debug information).
INSTALLED_LIB := $(DESTDIR)$(PKGLIBDIR)/libwritebehind.so
INSTALLED_FILES := $(INSTALLED_LIB) $(DESTDIR)$(BINDIR)/writebehind \
    $(DESTDIR)$(MANDIR)/man1/writebehind.1 $(DESTDIR)$(COMPLETIONDIR)/writebehind

install: $(LIB) $(CLI)
	install -d $(DESTDIR)$(PKGLIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
	    $(DESTDIR)$(COMPLETIONDIR)
	install -m 644 $(LIB) $(INSTALLED_LIB)
	$(STRIP) --strip-unneeded $(INSTALLED_LIB)
	install -m 755 $(CLI) $(DESTDIR)$(BINDIR)/writebehind
	$(STRIP) $(DESTDIR)$(BINDIR)/writebehind
	install -m 644 writebehind.1 $(DESTDIR)$(MANDIR)/man1/writebehind.1
	install -m 644 completion/writebehind $(DESTDIR)$(COMPLETIONDIR)/writebehind

uninstall:
	rm -f $(INSTALLED_FILES)
	-rmdir $(DESTDIR)$(PKGLIBDIR)

# `make deb`: a binary package built with dpkg-deb alone (no debian/ tree):
# /usr/bin/writebehind, the library in /usr/lib/MULTIARCH/writebehind/ (where
# the wrapper finds it, relative to itself), the compressed man page, the
# bash completion and the license as the copyright file.
DEB_ARCH  = $(shell dpkg --print-architecture)
DEB_ROOT  = $(BUILD)/deb-root
DEB       = $(BUILD)/writebehind_$(VERSION)_$(DEB_ARCH).deb
DEB_MAINTAINER ?= writebehind developers <writebehind@localhost>

deb: $(LIB) $(CLI)
	rm -rf $(DEB_ROOT)
	$(MAKE) --no-print-directory install BUILD=$(BUILD) DESTDIR=$(abspath $(DEB_ROOT)) \
	    PREFIX=/usr LIBDIR=/usr/lib/$(MULTIARCH) -o $(LIB) -o $(CLI)
	gzip -9n $(DEB_ROOT)/usr/share/man/man1/writebehind.1
	install -d $(DEB_ROOT)/usr/share/doc/writebehind $(DEB_ROOT)/DEBIAN
	install -m 644 LICENSE $(DEB_ROOT)/usr/share/doc/writebehind/copyright
	{ echo "Package: writebehind"; \
	  echo "Version: $(VERSION)"; \
	  echo "Architecture: $(DEB_ARCH)"; \
	  echo "Maintainer: $(DEB_MAINTAINER)"; \
	  echo "Installed-Size: $$(du -sk $(DEB_ROOT)/usr | cut -f1)"; \
	  echo "Depends: libc6 (>= 2.34)"; \
	  echo "Section: utils"; \
	  echo "Priority: optional"; \
	  echo "Description: run programs with their small file writes coalesced"; \
	  echo " writebehind is an LD_PRELOAD library and a wrapper in the spirit of"; \
	  echo " stdbuf(1): the small write() calls of any dynamically linked program"; \
	  echo " are collected into large buffers written by a background thread."; \
	  echo " Nothing the program or another process can observe changes, except"; \
	  echo " speed. writebehind --check tells whether a command would benefit."; \
	} >$(DEB_ROOT)/DEBIAN/control
	cd $(DEB_ROOT) && find usr -type f -exec md5sum {} + >DEBIAN/md5sums
	dpkg-deb --root-owner-group --build $(DEB_ROOT) $(DEB)

clean:
	rm -rf build build-asan build-tsan

help:
	@echo "make [all]      build $(LIB) and $(CLI)"
	@echo "make demo       the seed workload with and without the library"
	@echo "make test       the bats suite (test-asan, test-tsan: under sanitizers)"
	@echo "make bench      the benchmark table (writes bench/results.md);"
	@echo "                BENCH_ONLY=harm make bench: only its \"Do no harm\" section"
	@echo "make install    PREFIX=$(PREFIX) LIBDIR=$(LIBDIR) DESTDIR=$(DESTDIR); make uninstall"
	@echo "make deb        a .deb package in $(BUILD)/ (dpkg-deb)"
