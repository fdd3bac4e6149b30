# attune: `make run` opens the companion window (the bundled demo session when there is no
# microphone); `make test` runs every test.
SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: deps run demo-analyze test bench score score-sessions fmt lint

deps:
	@scripts/install-deps.sh

run:
	@scripts/install-deps.sh --gui
	cargo run --release --locked

# The analysis of the bundled demo recording, as files.
demo-analyze: deps
	cargo run --release --locked -- analyze assets/demo_session.wav --out out/demo
	@echo; echo "Results in out/demo:"; ls -l out/demo; echo; cat out/demo/demo_session.summary.json

test: deps
	@scripts/python-env.sh >/dev/null || { [ -z "$$CI" ] && echo "attune: no Python readers; tests/export.rs skips its reader checks" >&2; }
	cargo test --locked --no-fail-fast

bench: deps
	cargo bench --bench analysis

# Accuracy on the shared corpus (needs ../shared/corpus and python3 with numpy + mir_eval).
score: deps
	python3 -c 'import numpy, mir_eval' 2>/dev/null || pip install --quiet numpy mir_eval
	scripts/score-dev.sh

# Speakers, turns and mirroring on ../shared/corpus/dev/sessions.
score-sessions: deps
	python3 -c 'import numpy, mir_eval' 2>/dev/null || pip install --quiet numpy mir_eval
	scripts/score-sessions.sh

fmt:
	cargo fmt

lint:
	cargo fmt --check
	cargo clippy --all-targets -- -D warnings
