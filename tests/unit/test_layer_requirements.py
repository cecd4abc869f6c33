"""The layer's SDK: boto3 and botocore pinned together, as a pair boto3 itself accepts."""

from __future__ import annotations

import re
from importlib.metadata import requires, version

from packaging.requirements import Requirement

from studio_image_sandbox.stack import ROOT

REQUIREMENTS = ROOT / "layers" / "shared" / "requirements.txt"


def pins() -> dict[str, str]:
    found = {}
    for line in REQUIREMENTS.read_text().splitlines():
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([^\s#]+)", line.strip())
        if match:
            found[match[1].lower()] = match[2]
    return found


def test_boto3_and_botocore_are_pinned_to_a_pair_boto3_accepts():
    # Given the layer's requirements
    pinned = pins()
    # Then both are pinned exactly, boto3 to the version tested here
    assert {"boto3", "botocore"} <= set(pinned)
    assert pinned["boto3"] == version("boto3")
    # And that boto3's own requirement on botocore admits the pinned botocore
    (needs,) = [
        Requirement(r)
        for r in requires("boto3") or []
        if Requirement(r).name == "botocore" and not Requirement(r).marker
    ]
    assert pinned["botocore"] in needs.specifier
