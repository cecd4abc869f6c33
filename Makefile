# The project's interface: README and CI call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: dev tools test test-images lint build demo bench clean

export SAM_CLI_TELEMETRY := 0

dev: $(STAMP) tools

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[dev]'
	touch $(STAMP)

tools:
	./scripts/install-tools.sh

test: dev test-images
	STUDIO_IMAGE_TEST_IMAGES=required $(BIN)/pytest -q

# Test images from Debian's and PyPI's packages (mmdebstrap, pip in a chroot, umoci), built once and
# cached under ~/.cache/studio-image-test-images by the hash of the script; needs root.
test-images: tools
	./scripts/build-test-images.sh

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

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
