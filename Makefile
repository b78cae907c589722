# The two commands of the README: `make run` and `make test`.
BUILD_DIR ?= build/release
# The unit tests again, built with AddressSanitizer + UndefinedBehaviorSanitizer (issue 10).
ASAN_DIR ?= build/asan
JOBS ?= $(shell nproc)
HTTP ?= 127.0.0.1:8080

.PHONY: run test build bootstrap unit unit-asan interop cluster fuzz clean

bootstrap:
	scripts/bootstrap

build: bootstrap
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD_DIR) -j $(JOBS)

# No --public-ip: `strata dev` then advertises every interface address and 127.0.0.1 last, so
# a desktop Firefox (which never pairs its addresses with a remote 127.0.0.1) connects, and
# Chromium too.
run: build
	$(BUILD_DIR)/src/app/strata dev --http $(HTTP)

# Every test: unit (GoogleTest), interop with real clients (Chromium, aiortc, GStreamer),
# and the cluster test (real redis-server, broker, origins and edges as processes), on the
# Release build; then the unit tests once more under ASan + UBSan (unit-asan).
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 300
	$(MAKE) unit-asan

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

# Unit tests only (interop and cluster stay on the Release build), with
# -fsanitize=address,undefined: ASan (with LeakSanitizer) and UBSan, halting on the first
# finding. Builds only the test executables (target strata_unit_tests), at -O1 -g.
unit-asan: bootstrap
	cmake -S . -B $(ASAN_DIR) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTRATA_SANITIZE=ON
	cmake --build $(ASAN_DIR) -j $(JOBS) --target strata_unit_tests
	cd $(ASAN_DIR) && ctest --output-on-failure -L unit --timeout 300

interop: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L interop

cluster: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L cluster

# Every libFuzzer target (fuzz/) built with clang, ASan and UBSan in build/fuzz and run for
# FUZZ_SECONDS each (default 60) or FUZZ_RUNS executions, on a copy of its corpus; prints
# executions, exec/s and new corpus inputs per target, fails on a crash and leaves the
# reproducer in build/fuzz/crashes/<name>/. FUZZ_TARGETS="rtp sdp" runs some. See scripts/fuzz.
fuzz: bootstrap
	FUZZ_SECONDS="$(FUZZ_SECONDS)" FUZZ_RUNS="$(FUZZ_RUNS)" FUZZ_TARGETS="$(FUZZ_TARGETS)" JOBS="$(JOBS)" scripts/fuzz

clean:
	rm -rf build
