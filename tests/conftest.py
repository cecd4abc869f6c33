"""Fixtures shared by every test tier."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import os
import shutil
from pathlib import Path

import pytest

import moto_studio
from moto_studio.validation import mismatches
from studio_image.engine import inspect_image
from studio_image.inventory import Inventory
from studio_image.limits import ScanLimits
from studio_image.oci import Descriptor
from studio_image.scan.layer import scan_layer
from studio_image.scan.models import LayerScan
from studio_image.sources import open_source
from studio_image_sandbox.ocibuild import LAYER_TYPES, ImageSpec, Layer, build_image, compress
from studio_image_sandbox.samples import compliant

moto_studio.install()  # every test sees the same AWS: moto, with what moto_studio adds
# Every response moto_studio writes is checked against botocore's output shape, in this process and
# in any sandbox it starts; `_fast_moto_studio` fails a test that received one that is not.
os.environ["MOTO_STUDIO_CHECK_RESPONSES"] = "1"
# The sandbox's one clock at a twentieth of AWS's pace: Wait states, Retry intervals and SageMaker's
# asynchronous work (moto_studio.settings). And botocore tries each call twice, here and in the
# Lambda workers (moto_studio.faults.botocore_attempts): a retry is still made, and backs off less.
# Either can be set in the environment instead (MOTO_STUDIO_TIME_SCALE=1: AWS's pace;
# AWS_MAX_ATTEMPTS empty: botocore's own, as `make reliability` runs the fault table).
os.environ.setdefault("MOTO_STUDIO_TIME_SCALE", "0.05")
if os.environ.setdefault("AWS_MAX_ATTEMPTS", "2") == "":
    del os.environ["AWS_MAX_ATTEMPTS"]

# Tests marked `tools` make images and serve them with these programs, as root; a test marked
# `tools("chromium")` needs only the programs it names (scripts/install-tools.sh installs them all).
TOOLS = ("umoci", "skopeo", "docker-registry", "htpasswd", "tar")
# The fixtures (tests/integration/conftest.py) that run them: a test using one must be marked.
TOOL_FIXTURES = {"umoci_image", "multi_platform", "registry", "basic_auth_registry", "bearer_registry"}


E2E = Path(__file__).parent / "e2e"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if E2E in item.path.parents:
            item.add_marker(pytest.mark.e2e)
    unmarked = [
        item.nodeid
        for item in items
        if TOOL_FIXTURES & set(getattr(item, "fixturenames", ())) and not item.get_closest_marker("tools")
    ]
    if unmarked:
        raise pytest.UsageError(f"these tests use system tools but are not marked `tools`: {unmarked}")


def pytest_runtest_setup(item: pytest.Item) -> None:
    marker = item.get_closest_marker("tools")
    if marker is None:
        return
    missing = [tool for tool in marker.args or TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"needs {', '.join(missing)}: `make tools` (scripts/install-tools.sh) installs them")
    if not marker.args and os.geteuid() != 0:
        pytest.skip("needs root: its images hold files owned by IDs beyond 65535")


@pytest.fixture(autouse=True)
def _fast_moto_studio():
    """The sandbox's settings afresh (its clock fast: MOTO_STUDIO_TIME_SCALE above), and no scripted
    app starts left over; every response moto_studio wrote during the test matched botocore's
    output shape."""
    moto_studio.settings.reset()
    moto_studio.settings.image_seconds = 0.0  # images and app deletions are done at once, unless
    moto_studio.settings.app_delete_seconds = 0.0  # a test gives them time
    mismatches.clear()
    yield
    moto_studio.settings.reset()
    if mismatches:
        found = "\n".join(map(str, mismatches))
        mismatches.clear()
        pytest.fail(f"moto_studio wrote responses AWS would not:\n{found}", pytrace=False)


def descriptor_for(blob: bytes, compression: str = "gzip") -> Descriptor:
    return Descriptor(
        mediaType=LAYER_TYPES[compression],
        digest=f"sha256:{hashlib.sha256(blob).hexdigest()}",
        size=len(blob),
    )


def scan_blob(
    blob: bytes,
    compression: str = "gzip",
    limits: ScanLimits | None = None,
    descriptor: Descriptor | None = None,
) -> LayerScan:
    return scan_layer(
        io.BytesIO(blob),
        descriptor or descriptor_for(blob, compression),
        label="layer 1/1",
        limits=limits or ScanLimits(),
    )


def scan_tar_layer(layer: Layer | bytes, compression: str = "gzip", **kwargs: object) -> LayerScan:
    tar = layer.tar_bytes() if isinstance(layer, Layer) else layer
    return scan_blob(compress(tar, compression), compression, **kwargs)  # type: ignore[arg-type]


def inspect_reference(reference: str) -> Inventory:
    with open_source(reference) as source:
        return inspect_image(source)


@pytest.fixture
def make_compliant(make_image):
    """Factory: the sandbox's compliant image for a profile, plus `layers`, with spec `changes`."""

    def make(*layers: Layer, profile: str = "kernel-gateway", **changes: object) -> str:
        spec = dataclasses.replace(compliant(profile), **changes)  # type: ignore[arg-type]
        return make_image(*spec.layers, *layers, **{k: v for k, v in vars(spec).items() if k != "layers"})

    return make


@pytest.fixture
def make_image(tmp_path: Path):
    """Factory: write an OCI layout under the test's tmp_path and return its `oci:` reference."""
    counter = iter(range(1000))

    def make(*layers: Layer | bytes, **spec: object) -> str:
        return build_image(tmp_path / f"image{next(counter)}", ImageSpec(layers=list(layers), **spec))  # type: ignore[arg-type]

    return make
