"""The sandbox's sample images, which `make demo` shows, get the verdicts they are there to show."""

import json

import pytest

from moto_studio.scanning import SCAN_RESULT_LABEL
from studio_image.aws.ecr_scanning import basic_vulnerabilities
from studio_image.engine import inspect_image
from studio_image.findings import Profile
from studio_image.pipeline.config import load_config
from studio_image.rules.judging import build_report
from studio_image.sources import open_source
from studio_image.vulnerabilities import ScanResult, gate, with_gate
from studio_image_sandbox.samples import SAMPLES
from studio_image_sandbox.sandbox import DEFAULT_CONFIGURATION


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda s: s.name)
def test_each_sample_gets_its_expected_verdict(sample, tmp_path):
    with open_source(sample.build(tmp_path)) as source:
        inventory = inspect_image(source)
    report = build_report(inventory, Profile(sample.profile))
    # A sample that chooses its ECR scan result is gated as the sandbox's binding gates it
    label = (inventory.config.config.labels or {}).get(SCAN_RESULT_LABEL)
    binding = load_config(json.dumps(DEFAULT_CONFIGURATION), "sandbox").binding_for(f"studio/{sample.name}")
    if label and binding and binding.policy.vulnerabilities:
        found = json.loads(label)
        scan = ScanResult(
            status=found.get("status", "COMPLETE"),
            vulnerabilities=[v for f in found.get("findings", []) for v in basic_vulnerabilities(f)],
        )
        report = with_gate(report, gate(scan, binding.policy.vulnerabilities))
    assert report.verdict.value == sample.expect, [f.message for f in report.findings]
