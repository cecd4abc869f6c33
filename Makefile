# The project's interface: README and CI call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SANDBOX_STAMP := $(VENV)/.installed-sandbox
LAYER_REQUIREMENTS := layers/shared/requirements.txt

.PHONY: dev tools unit integration e2e test test-all test-images lint build demo bench fuzz clean requirements

export SAM_CLI_TELEMETRY := 0

# Everything installs into .venv: nothing outside the checkout changes (system tools: `make tools`).
dev: $(STAMP)

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

# Contributors' tools (the `dev` extra), on the layer's pinned versions.
$(STAMP): pyproject.toml $(LAYER_REQUIREMENTS) | $(BIN)/python
	$(BIN)/pip install -q -r $(LAYER_REQUIREMENTS) -e '.[dev]'
	touch $(STAMP)

# Only what `studio-image sandbox` needs (the `sandbox` extra).
$(SANDBOX_STAMP): pyproject.toml $(LAYER_REQUIREMENTS) | $(BIN)/python
	$(BIN)/pip install -q -r $(LAYER_REQUIREMENTS) -e '.[sandbox]'
	touch $(SANDBOX_STAMP)

# The layer's requirements from pyproject.toml, pinned to the versions installed in .venv.
requirements: $(STAMP)
	$(BIN)/python scripts/layer_requirements.py

# The system tools some tests use (apt-get, as root; elsewhere it says what is missing).
tools:
	./scripts/install-tools.sh

# The test tiers. As root the real-image tests must run (their images are built first); elsewhere
# they are skipped. `test`: unit, integration and the whole runs marked `core` (a pass, a refusal,
# a canary rolled back, a retire, duplicate delivery, concurrent attaches, three faults);
# `test-all`: every test, the whole fault table, the quick start and the pip install included.
# Each tier runs on every core, at most 4 workers (each has its own moto server and Lambda workers).
PYTEST = STUDIO_IMAGE_TEST_IMAGES=$$([ "$$(id -u)" -eq 0 ] && echo required) $(BIN)/pytest -q -n auto --maxprocesses 4 --dist worksteal
unit: dev
	$(BIN)/pytest -q -n auto --maxprocesses 4 --dist worksteal tests/unit
integration: dev test-images
	$(PYTEST) tests/integration
e2e: dev test-images
	$(PYTEST) tests/e2e
test: dev test-images
	$(PYTEST) -m "(not e2e or core) and not install"
test-all: dev test-images
	$(PYTEST)

# Test images from Debian's, PyPI's and npm's packages (mmdebstrap, pip and npm in a chroot, umoci), built once and
# cached under ~/.cache/studio-image-test-images by the hash of the script; needs root and `make tools`.
test-images:
	@if [ "$$(id -u)" -ne 0 ]; then echo "not building the test images (needs root): the tests that read them are skipped"; \
	elif [ -f "$$(./scripts/build-test-images.sh --print-dir)/complete" ]; then :; \
	elif command -v mmdebstrap >/dev/null && command -v umoci >/dev/null; then ./scripts/build-test-images.sh; \
	else echo "the test images are built with mmdebstrap and umoci: run \`make tools\` first" >&2; exit 2; fi

lint: $(STAMP)  # needs no system tools
	$(BIN)/ruff check layers functions sandbox tests benchmarks scripts
	$(BIN)/ruff format --check layers functions sandbox tests benchmarks scripts
	$(BIN)/mypy
	$(BIN)/sam validate --lint --template template.yaml

# What `sam deploy` would upload: the layer with its dependencies, and the eight functions.
build: dev
	$(BIN)/sam build --template template.yaml --build-dir .aws-sam/build

# The pipeline end to end in the local sandbox (needs no system tools).
demo: $(SANDBOX_STAMP)
	$(BIN)/studio-image sandbox demo

bench: dev
	$(BIN)/python benchmarks/scan_throughput.py
	$(BIN)/python benchmarks/many_entries.py
	$(BIN)/python benchmarks/sbom_capture.py
	$(BIN)/python benchmarks/rule_evaluation.py
	$(BIN)/python benchmarks/sandbox_e2e.py
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/aws_model.py

# The tar, manifest, index and config parsers under atheris for FUZZ_SECONDS, seeded with Go's tar
# corpus (fetched by `make tools`); a crash leaves its input in .fuzz-crashes/.
FUZZ_SECONDS ?= 300
GO_TAR_CORPUS ?= $(HOME)/.cache/studio-image/go-archive-tar
fuzz: dev
	mkdir -p .fuzz-corpus .fuzz-crashes && cp -n $(GO_TAR_CORPUS)/*.tar .fuzz-corpus/ 2>/dev/null || true
	$(BIN)/python tests/fuzz/fuzz_parsers.py -max_total_time=$(FUZZ_SECONDS) -max_len=16384 \
		-artifact_prefix=.fuzz-crashes/ .fuzz-corpus

# The README's reliability figures: duplicated and malformed events, concurrent runs, and a fault on
# each AWS call the workflow makes (the table printed at the end), with botocore's own attempts.
.PHONY: reliability
RELIABILITY_OUT ?= $(VENV)/reliability.jsonl
reliability: dev
	rm -f $(RELIABILITY_OUT)
	AWS_MAX_ATTEMPTS= STUDIO_IMAGE_RELIABILITY_OUT=$(RELIABILITY_OUT) $(BIN)/pytest -q -s tests/e2e/test_events_delivery.py \
		tests/e2e/test_concurrency.py tests/e2e/test_reliability.py
	$(BIN)/python scripts/reliability_table.py $(RELIABILITY_OUT)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam .fuzz-corpus .fuzz-crashes
