# The two commands of the README: `make run` and `make test`.
BUILD_DIR ?= build/release
JOBS ?= $(shell nproc)
HTTP ?= 127.0.0.1:8080

.PHONY: run test build bootstrap unit interop cluster clean

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
# and the cluster test (real redis-server, broker, origins and edges as processes).
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure --timeout 300

unit: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L unit

interop: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L interop

cluster: build
	cd $(BUILD_DIR) && ctest --output-on-failure -L cluster

clean:
	rm -rf build
