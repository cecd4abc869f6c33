"""The README's quick start, run exactly as written in a fresh copy of the project: no `.venv`,
so the commands must install everything themselves.

The quick start's own `make test` would run this test again inside itself; the nested run is
narrowed with PYTEST_ADDOPTS (pytest's own variable) to one module of unit tests (the command and
the install it makes are what is tested here), and this test skips there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from studio_image_sandbox.stack import ROOT

NESTED = "STUDIO_IMAGE_QUICKSTART_NESTED"
# What .gitignore lists: a clean checkout has none of it.
NOT_COPIED = shutil.ignore_patterns(
    ".git",
    ".venv",
    ".aws-sam",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.egg-info",
    ".data",
    "build",
)


def quick_start_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("\n## Quick start\n", 1)[1].split("\n## ", 1)[0]
    block = re.search(r"```sh\n(.*?)```", section, re.S)
    assert block, "the README's quick start has no ```sh block"
    return [line.split("#", 1)[0].strip() for line in block[1].splitlines() if line.strip()]


@pytest.mark.skipif(bool(os.environ.get(NESTED)), reason="inside the quick start's own `make test`")
def test_the_readme_quick_start_works_in_a_fresh_copy(tmp_path):
    # Given a copy of the project without its virtual environment
    project = tmp_path / "project"
    shutil.copytree(ROOT, project, ignore=NOT_COPIED)
    path = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if not p.startswith(str(ROOT)))
    environment = {k: v for k, v in os.environ.items() if k not in {"VIRTUAL_ENV", "PYTHONPATH"}}
    environment.update(
        PATH=path,
        STUDIO_IMAGE_SANDBOX_DIR=str(tmp_path / "sandbox"),
        PYTEST_ADDOPTS="tests/unit/test_statemachine_and_template.py",
        **{NESTED: "1"},
    )
    commands = quick_start_commands()
    assert len(commands) == 2, commands  # one runs the pipeline, one runs the tests
    for command in commands:
        # When each command runs there, as a person would type it
        done = subprocess.run(
            command, shell=True, cwd=project, env=environment, capture_output=True, text=True, timeout=900
        )
        # Then it succeeds
        assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        if "demo" in command:
            assert "every verdict as expected" in done.stdout, done.stdout[-3000:]
            assert (project / ".venv" / "bin" / "studio-image").exists()
        else:
            assert re.search(r"\d+ passed", done.stdout), done.stdout[-3000:]
