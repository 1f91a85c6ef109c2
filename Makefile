# Stackyard: `make run` builds and serves the console at http://127.0.0.1:3000,
# `make test` runs every test. Both install what is missing first.
SHELL := /bin/bash
export PATH := $(CURDIR)/end2end/node_modules/.bin:$(HOME)/.cargo/bin:$(PATH)

.PHONY: run test setup setup-test build lint unit e2e clean

run: setup build
	./target/release/stackyard serve

test: setup-test build
	./scripts/test.sh

# The groups of `make test` on their own (scripts/test.sh says what each runs):
# formatting, stylelint, clippy and doc links; the unit tests (the pure core
# first, without the ssr stack); Playwright against the release server.
lint: setup
	./scripts/test.sh lint

unit: setup
	./scripts/test.sh unit

e2e: setup-test build
	./scripts/test.sh e2e

setup:
	./scripts/setup.sh run

setup-test:
	./scripts/setup.sh test

# The server and the wasm bundle in release mode, with .br/.gz copies of the
# site files for the server to send as they are; the site files land in
# target/site, where the binary finds them. The stylesheet is linted and put
# together from style/ first (scripts/style.sh), into the file cargo-leptos reads.
build:
	./scripts/style.sh
	cargo leptos build --release --precompress --split
	@# noVNC and xterm.js for the consoles, loaded only by a console page.
	./scripts/vendor.sh
	@# cargo-leptos gzips at a fast level (its .gz of the wasm is larger than
	@# what the server would make on the fly); browsers on plain http get gzip
	@# only, so those files are made again at the highest level.
	find target/site -type f \( -name '*.wasm' -o -name '*.js' -o -name '*.css' \) -exec gzip -9 -n -k -f {} +

clean:
	cargo clean
	rm -rf end2end/node_modules end2end/test-results end2end/playwright-report
