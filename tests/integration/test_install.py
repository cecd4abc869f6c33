"""`pip install studio-image-pipeline`, no extras, into a fresh virtual environment: the CLI works
with the runtime dependencies alone, and the sandbox says how to install its extra."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studio_image_sandbox.ocibuild import build_image
from studio_image_sandbox.samples import compliant
from studio_image_sandbox.stack import ROOT

SOURCES = ("pyproject.toml", "README.md", "layers/shared/studio_image", "sandbox")


def copy_sources(destination: Path) -> Path:
    """The files a wheel is built from, away from the checkout's build leftovers and .venv."""
    for name in SOURCES:
        source, target = ROOT / name, destination / name
        if source.is_dir():
            shutil.copytree(source, target, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return destination


@pytest.mark.install
def test_a_plain_pip_install_checks_images_and_points_at_the_sandbox_extra(tmp_path):
    # Given the project installed with pip, without extras, in a new virtual environment
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", venv], check=True)
    project = copy_sources(tmp_path / "project")
    install = subprocess.run(
        [venv / "bin" / "pip", "install", "-q", project], capture_output=True, text=True, timeout=900
    )
    assert install.returncode == 0, install.stderr[-3000:]
    cli = venv / "bin" / "studio-image"
    freeze = subprocess.run([venv / "bin" / "pip", "freeze"], capture_output=True, text=True).stdout.lower()
    assert "moto" not in freeze and "aws-lambda-powertools" not in freeze

    def studio_image(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([cli, *argv], capture_output=True, text=True, timeout=300)

    # When --version, --help, check and sandbox run
    version, usage = studio_image("--version"), studio_image("--help")
    image = build_image(tmp_path / "image", compliant("kernel-gateway"))
    checked = studio_image("check", image, "--no-cache", "--format", "json")
    sandbox = studio_image("sandbox", "demo")
    # Then the first three work, and the sandbox says in one line how to install its extra
    assert version.returncode == 0 and version.stdout.startswith("studio-image "), version.stderr
    assert usage.returncode == 0 and "{check,kernelspec,sandbox}" in usage.stdout, usage.stderr
    assert checked.returncode == 0, checked.stderr
    assert json.loads(checked.stdout)["verdict"] == "pass"
    assert sandbox.returncode == 2
    assert sandbox.stdout == ""
    assert sandbox.stderr.count("\n") == 1
    assert "pip install 'studio-image-pipeline[sandbox]'" in sandbox.stderr
