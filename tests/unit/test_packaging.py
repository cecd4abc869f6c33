"""The package as installed: commands load lazily, and the layer's requirements are pyproject's."""

from __future__ import annotations

import subprocess
import sys
from importlib.metadata import requires

from packaging.requirements import Requirement

from studio_image_sandbox.stack import ROOT

LAYER_REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"


def modules_loaded_by(argv: list[str]) -> set[str]:
    """Top-level packages imported by a fresh interpreter that runs `studio-image ARGV`."""
    program = (
        "import sys\nfrom studio_image.cli import main\n"
        f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
        "print(' '.join(sorted({name.split('.')[0] for name in sys.modules})))"
    )
    done = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, check=True)
    return set(done.stdout.split())


def test_version_and_help_import_no_command_module():
    # Given `studio-image --version` and `--help`, each in a new interpreter
    for argv in (["--version"], ["--help"]):
        # When it runs, Then neither pydantic nor boto3 nor the sandbox was imported
        loaded = modules_loaded_by(argv)
        assert not loaded & {"pydantic", "boto3", "moto", "studio_image_sandbox", "yaml"}, argv


def test_check_and_sandbox_help_do_not_import_the_sandbox_or_aws():
    # Given `check --help` and `sandbox --help`
    check, sandbox = modules_loaded_by(["check", "--help"]), modules_loaded_by(["sandbox", "--help"])
    # Then check loads the checker but no AWS SDK, and the sandbox's parser does not load moto
    assert "pydantic" in check
    assert not check & {"boto3", "moto", "studio_image_sandbox"}
    assert "studio_image_sandbox" in sandbox
    assert not sandbox & {"moto", "boto3", "pydantic"}


def test_the_layer_requirements_are_pyprojects_pinned_to_the_installed_versions():
    # Given layers/shared/requirements.txt and what `make requirements` would write now
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "layer_requirements.py"), "--check"],
        capture_output=True,
        text=True,
    )
    # Then they are the same: every runtime dependency and the layer extra, at the installed version
    assert done.returncode == 0, done.stderr
    lines = [
        line for line in LAYER_REQUIREMENTS.read_text().splitlines() if line and not line.startswith("#")
    ]
    pins = {req.name.lower(): req for req in map(Requirement, lines)}
    assert all(str(req.specifier).startswith("==") for req in pins.values()), lines
    # And botocore is pinned beside boto3, inside the range that boto3 release requires
    boto3_requires = [Requirement(text) for text in requires("boto3") or []]
    boto3_bounds = next(r for r in boto3_requires if r.name == "botocore" and r.marker is None)
    botocore = str(pins["botocore"].specifier).removeprefix("==")
    assert botocore in boto3_bounds.specifier, (botocore, boto3_bounds)
