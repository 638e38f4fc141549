# writebehind — build, test, bench, install.  `make help` lists the targets.
CC        ?= cc
CXX       ?= c++
CFLAGS    ?= -O2 -g
PREFIX    ?= /usr/local
DESTDIR   ?=
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
BENCHES   := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

.PHONY: all demo test test-asan test-tsan bench install uninstall clean help
all: $(LIB) $(LIB_FAULTS) $(CLI) $(HELPERS) $(BENCHES)

$(BUILD)/obj/%.o: src/%.c src/*.h | $(BUILD)/obj
	$(CC) $(LIB_CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJ)
	$(CC) $(LIB_CFLAGS) -shared -Wl,-z,defs -o $@ $^ $(LIB_LDLIBS)

$(BUILD)/obj/real-faults.o: src/real.c src/*.h | $(BUILD)/obj
	$(CC) $(LIB_CFLAGS) -DWB_FAULT_INJECTION -c $< -o $@

$(LIB_FAULTS): $(filter-out $(BUILD)/obj/real.o,$(LIB_OBJ)) $(BUILD)/obj/real-faults.o
	$(CC) $(LIB_CFLAGS) -shared -Wl,-z,defs -o $@ $^ $(LIB_LDLIBS)

# The wrapper shares the size parser with the library, nothing else.
$(CLI): src/cli/writebehind.c src/parse.c | $(BUILD)
	$(CC) -std=gnu11 $(WARN) $(SANFLAGS) $(CFLAGS) -D_GNU_SOURCE -DWB_VERSION='"$(VERSION)"' \
	    -o $@ src/cli/writebehind.c

$(BUILD)/helpers/%: tests/helpers/%.c | $(BUILD)/helpers
	$(CC) -std=gnu11 $(WARN) $(SANFLAGS) $(CFLAGS) -pthread -o $@ $< -pthread

$(BUILD)/bench/%: bench/%.c | $(BUILD)/bench
	$(CC) -std=gnu11 $(WARN) -O2 -g -pthread -o $@ $< -pthread

$(BUILD) $(BUILD)/obj $(BUILD)/helpers $(BUILD)/bench:
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

install: $(LIB) $(CLI)
	install -d $(DESTDIR)$(PREFIX)/lib/writebehind $(DESTDIR)$(PREFIX)/bin \
	    $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/writebehind/libwritebehind.so
	install -m 755 $(CLI) $(DESTDIR)$(PREFIX)/bin/writebehind
	install -m 644 writebehind.1 $(DESTDIR)$(PREFIX)/share/man/man1/writebehind.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/writebehind/libwritebehind.so \
	    $(DESTDIR)$(PREFIX)/bin/writebehind $(DESTDIR)$(PREFIX)/share/man/man1/writebehind.1
	-rmdir $(DESTDIR)$(PREFIX)/lib/writebehind

clean:
	rm -rf build build-asan build-tsan

help:
	@echo "make [all]      build $(LIB) and $(CLI)"
	@echo "make demo       the seed workload with and without the library"
	@echo "make test       the bats suite (test-asan, test-tsan: under sanitizers)"
	@echo "make bench      the benchmark table (writes bench/results.md)"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR=$(DESTDIR); make uninstall"
