# The project's interface: README and CI call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev tools test lint build demo bench fuzz clean

export SAM_CLI_TELEMETRY := 0

dev: $(STAMP) tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

tools:
	./scripts/install-tools.sh

test: dev
	$(BIN)/pytest -q

lint: dev
	$(BIN)/ruff check layers functions sandbox tests benchmarks
	$(BIN)/ruff format --check layers functions sandbox tests benchmarks
	$(BIN)/mypy
	$(BIN)/sam validate --lint --template template.yaml

# What `sam deploy` would upload: the layer with its dependencies, and the eight functions.
build: dev
	$(BIN)/sam build --template template.yaml --build-dir .aws-sam/build

# The pipeline end to end in the local sandbox (needs no system tools).
demo: $(STAMP)
	$(BIN)/studio-image sandbox demo

bench: dev
	$(BIN)/python benchmarks/scan_throughput.py
	$(BIN)/python benchmarks/rule_evaluation.py
	$(BIN)/python benchmarks/sandbox_e2e.py

# The tar, manifest, index and config parsers under atheris for FUZZ_SECONDS, seeded with Go's tar
# corpus (fetched by `make tools`); a crash leaves its input in .fuzz-crashes/.
FUZZ_SECONDS ?= 300
GO_TAR_CORPUS ?= $(HOME)/.cache/studio-image/go-archive-tar
fuzz: dev
	mkdir -p .fuzz-corpus .fuzz-crashes && cp -n $(GO_TAR_CORPUS)/*.tar .fuzz-corpus/ 2>/dev/null || true
	$(BIN)/python tests/fuzz/fuzz_parsers.py -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
		-artifact_prefix=.fuzz-crashes/ .fuzz-corpus

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam .fuzz-corpus .fuzz-crashes
