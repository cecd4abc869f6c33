"""A short run of the atheris fuzz target in CI (make fuzz runs it longer)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from studio_image_sandbox.ocibuild import ImageSpec, Layer, Layout
from tests.unit.test_go_tar_conformance import CORPUS

TARGET = Path(__file__).parents[1] / "fuzz" / "fuzz_parsers.py"


def seeds(directory: Path) -> Path:
    """Go's tar corpus (where fetched) and one image's layer, manifest and config as seeds."""
    directory.mkdir()
    if CORPUS.is_dir():
        for path in CORPUS.glob("*.tar"):
            shutil.copy(path, directory / path.name)
    layout = Layout(directory / "layout")
    layout.image(
        ImageSpec(layers=[Layer().file("etc/passwd", "root:x:0:0::/:/bin/sh\n").symlink("bin", "usr/bin")])
    )
    for number, blob in enumerate((directory / "layout" / "blobs" / "sha256").iterdir()):
        shutil.copy(blob, directory / f"image-{number}")
    shutil.rmtree(directory / "layout")
    return directory


def test_the_fuzz_target_runs_clean_for_a_few_thousand_inputs(tmp_path):
    pytest.importorskip("atheris")
    # Given the parsers under atheris, seeded with real tars and manifests
    corpus = seeds(tmp_path / "corpus")
    # When it runs a few thousand mutated inputs
    done = subprocess.run(
        [
            sys.executable,
            str(TARGET),
            "-runs=4000",
            "-seed=1",
            "-max_len=16384",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    # Then no input raised anything but our typed errors
    assert done.returncode == 0, done.stderr[-2000:]
