"""The sandbox's sample images, which `make demo` shows, get the verdicts they are there to show."""

import pytest

from studio_image.engine import inspect_image
from studio_image.findings import Profile
from studio_image.rules.judging import build_report
from studio_image.sources import open_source
from studio_image_sandbox.samples import SAMPLES


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_each_sample_gets_its_expected_verdict(sample, tmp_path):
    with open_source(sample.build(tmp_path)) as source:
        report = build_report(inspect_image(source), Profile(sample.profile))
    assert report.verdict.value == sample.expect, [f.message for f in report.findings]
