# Thin wrapper over CMake.  Both main targets install their Debian packages
# first (.ci/install-deps), then build in build/.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# WERROR=ON turns compiler warnings into errors (CI does; .ci/run).
WERROR ?= OFF

.PHONY: all deps build demo test test-sanitize fuzz clean

all: build

deps:
	@bash .ci/install-deps

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DZV_WERROR=$(WERROR) >/dev/null
	cmake --build $(BUILD) -j $(JOBS)

demo: build
	@bash conf/demo/run-demo.sh $(BUILD)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The same tests under AddressSanitizer and UndefinedBehaviorSanitizer (CI runs it).
test-sanitize: deps
	cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DZV_SANITIZE=ON -DZV_WERROR=$(WERROR) >/dev/null
	cmake --build build-sanitize -j $(JOBS)
	cd build-sanitize && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j $(JOBS) -LE nosanitize

# Every libFuzzer harness for FUZZ_SECONDS (default 60) each on top of its
# corpus (tests/fuzz/); prints executions per harness, fails on a crash.
fuzz: deps
	bash tests/fuzz/run-fuzz.sh

clean:
	rm -rf $(BUILD) build-sanitize build-fuzz demo-out
