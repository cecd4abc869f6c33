# The project's interface: README and CI call these targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
SANDBOX_STAMP := $(VENV)/.installed-sandbox
LAYER_REQUIREMENTS := layers/shared/requirements.txt

.PHONY: dev tools test lint build demo bench clean requirements

export SAM_CLI_TELEMETRY := 0

dev: $(STAMP) tools

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

tools:
	./scripts/install-tools.sh

test: dev
	$(BIN)/pytest -q

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
	$(BIN)/python benchmarks/rule_evaluation.py
	$(BIN)/python benchmarks/sandbox_e2e.py
	$(BIN)/python benchmarks/cli_startup.py
	$(BIN)/python benchmarks/aws_model.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .aws-sam
