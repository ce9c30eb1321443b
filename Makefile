# The lunatic build. One list of sources per layer; objects go to $(BUILD).
#   make                 build/lunatic (release, -O2)
#   make example         build examples/hello.c for wasm32-wasi and run it
#   make test            the whole test suite (unit tests + spec suite + WASI)
#   make BUILD=build-asan SAN=1 test    the same under ASan+UBSan
#   make CC=clang        build with clang
#   make FI=1            with fault injection: allocations of the runtime and
#                        host layers can be made to fail (src/rt/fi.h)
#   make check           what CI runs: -Werror builds with gcc and clang, the
#                        test suite, the test suite under ASan+UBSan (with
#                        its fault-injection sweep, tests/t-faults.sh, in an
#                        ASan FI=1 build), and the process tests under
#                        ThreadSanitizer (tests/tsan.sh)
CC      ?= cc
BUILD   ?= build
SAN     ?= 0
FI      ?= 0
OPT     ?= -O2

# erl_interface (Debian's erlang-dev): the newest version installed, found
# rather than named, so that an erlang-dev upgrade does not break the build.
EI_DIR  := $(lastword $(sort $(wildcard /usr/lib/erlang/lib/erl_interface-*)))

WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  := -std=gnu11 $(OPT) -g $(WARN) -Isrc -Iinclude -D_GNU_SOURCE -pthread $(EXTRA_CFLAGS)
LDLIBS  := -L$(EI_DIR)/lib -lei -lssl -lcrypto -lsqlite3 -lm -lpthread -ljansson
ifeq ($(SAN),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
endif

WASM_SRC := $(wildcard src/wasm/*.c)
WASI_SRC := $(wildcard src/wasi/*.c)
RT_SRC   := $(filter-out src/rt/fi.c,$(wildcard src/rt/*.c))
DIST_SRC := $(wildcard src/dist/*.c)
API_SRC  := $(wildcard src/api/*.c)
OBS_SRC  := $(wildcard src/obs/*.c)
EMBED_SRC := $(wildcard src/embed/*.c)
CLI_SRC  := $(wildcard src/cli/*.c)
# Fault injection (FI=1, for tests only): src/rt/fi.h is forced into every
# file of the runtime and host layers, renaming their allocation calls to
# the counting wrappers of src/rt/fi.c, which can fail the k-th. Without
# FI=1 neither is compiled: the normal build pays nothing. Those objects
# depend on a stamp named after FI, so switching FI in one BUILD directory
# rebuilds them.
FI_LAYERS := rt api obs embed
ifeq ($(FI),1)
RT_SRC   += src/rt/fi.c
$(foreach l,$(FI_LAYERS),$(BUILD)/src/$(l)/%.o): CFLAGS += -include src/rt/fi.h
endif
LIB_SRC  := $(WASM_SRC) $(WASI_SRC) $(RT_SRC) $(DIST_SRC) $(API_SRC) $(OBS_SRC) $(EMBED_SRC)
FI_STAMP := $(BUILD)/fi-$(FI).stamp

# The dashboard page is compiled in: a C array generated from the HTML.
GEN_OBJ  := $(BUILD)/gen/dashboard_html.o
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o) $(GEN_OBJ)
# The runtime and what it stands on, without the host API and above: the
# runtime's own unit tests (tests/unit/test_rt*.c) link only this.
RT_LIB_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(WASM_SRC) $(WASI_SRC) $(RT_SRC))
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)

.PHONY: all units test check example clean
all: $(BUILD)/lunatic

$(BUILD)/lunatic: $(CLI_OBJ) $(BUILD)/liblunatic.a
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/liblunatic.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/librt.a: $(RT_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

$(filter $(foreach l,$(FI_LAYERS),$(BUILD)/src/$(l)/%),$(LIB_OBJ)): $(FI_STAMP)
$(FI_STAMP):
	@mkdir -p $(dir $@) && rm -f $(BUILD)/fi-*.stamp && touch $@

$(BUILD)/gen/dashboard_html.c: src/obs/dashboard.html scripts/embed-file.sh
	@mkdir -p $(dir $@)
	sh scripts/embed-file.sh lobs_dashboard_html $< >$@.tmp && mv $@.tmp $@
$(BUILD)/gen/dashboard_html.o: $(BUILD)/gen/dashboard_html.c
	$(CC) $(CFLAGS) -c -o $@ $<

# Only the distribution layer uses ei's headers.
$(BUILD)/src/dist/%.o: CFLAGS += -isystem $(EI_DIR)/include

# Unit tests: each tests/unit/test_*.c is a program linked with the library.
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/liblunatic.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)
$(BUILD)/tests/test_rt%: tests/unit/test_rt%.c $(BUILD)/librt.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

units: $(UNIT_BIN)

test: $(BUILD)/lunatic $(UNIT_BIN)
	BUILD=$(BUILD) tests/run-all.sh

WASM_CC := scripts/wasm-cc -O2
$(BUILD)/examples/%.wasm: examples/%.c sdk/lunatic_guest.h
	@mkdir -p $(dir $@)
	$(WASM_CC) -Isdk -o $@ $<

example: $(BUILD)/lunatic $(BUILD)/examples/hello.wasm $(BUILD)/examples/workers.wasm
	$(BUILD)/lunatic run $(BUILD)/examples/hello.wasm from lunatic
	$(BUILD)/lunatic run $(BUILD)/examples/workers.wasm 8

# The three test stages all run even when one fails (a failure in the plain
# run must not hide what ASan or TSan would say); check fails at the end.
# The fault-injection sweep runs once, in the ASan stage (build-fi-asan),
# where LeakSanitizer sees what a failure path leaks.
check:
	$(MAKE) BUILD=build-werror-gcc CC=gcc EXTRA_CFLAGS=-Werror all units
	$(MAKE) BUILD=build-werror-clang CC=clang EXTRA_CFLAGS=-Werror all units
	@st=0; \
	FAULTS=skip $(MAKE) BUILD=build test || st=1; \
	$(MAKE) BUILD=build-asan SAN=1 test || st=1; \
	bash tests/tsan.sh || st=1; \
	if [ $$st -ne 0 ]; then echo "make check: some test stage failed (see above)"; fi; \
	exit $$st

clean:
	rm -rf build build-*

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
