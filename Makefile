# Stackyard: `make run` builds and serves the console at http://127.0.0.1:3000,
# `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test setup setup-test build lint unit e2e clean

run: setup build
	./target/release/stackyard serve

test: setup-test build
	./scripts/test.sh

setup:
	./scripts/setup.sh run

setup-test:
	./scripts/setup.sh test

# The server and the wasm bundle in release mode; the site files land in
# target/site, where the binary finds them.
build:
	cargo leptos build --release

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results end2end/playwright-report
