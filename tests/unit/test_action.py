"""action.yml, the composite GitHub Action: valid steps, and its inputs reach `studio-image check`."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
import yaml

from studio_image_sandbox.ocibuild import Layer
from studio_image_sandbox.stack import ROOT

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
STEPS = ACTION["runs"]["steps"]
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


def step(step_id: str) -> dict:
    return next(s for s in STEPS if s.get("id") == step_id)


def expressions(value: object) -> list[str]:
    return EXPRESSION.findall(json.dumps(value))


def run_check_step(tmp_path: Path, cli: str | Path, inputs: dict[str, str]) -> dict[str, str]:
    """The check step's script under bash, its ${{ }} expressions replaced as the runner would."""
    values = {
        f"inputs.{name}": inputs.get(name, spec.get("default", "")) for name, spec in ACTION["inputs"].items()
    }
    values |= {"steps.install.outputs.cli": str(cli), "runner.temp": str(tmp_path)}
    check = step("check")
    env = {name: EXPRESSION.sub(lambda m: values[m[1]], text) for name, text in check["env"].items()}
    outputs = tmp_path / "github_output"
    outputs.touch()
    done = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", check["run"]],
        env={"PATH": "/usr/bin:/bin", "GITHUB_OUTPUT": str(outputs), **env},
        capture_output=True,
        text=True,
    )
    found = dict(line.split("=", 1) for line in outputs.read_text().splitlines())
    return {"returncode": str(done.returncode), "stdout": done.stdout, "stderr": done.stderr, **found}


def test_the_action_is_a_valid_composite_action():
    # Given action.yml
    # Then it is a composite action whose steps each run a script (with a shell) or use an action
    assert ACTION["runs"]["using"] == "composite"
    assert ACTION["name"] and ACTION["description"]
    for s in STEPS:
        assert ("run" in s) != ("uses" in s), s
        assert "shell" in s if "run" in s else "shell" not in s, s
        assert set(s) <= {"name", "id", "if", "shell", "env", "run", "uses", "with", "working-directory"}, s
    ids = [s["id"] for s in STEPS if "id" in s]
    assert len(ids) == len(set(ids))
    # And every expression names a declared input or an earlier step's output
    declared = set(ACTION["inputs"])
    for index, s in enumerate(STEPS):
        earlier = {e["id"] for e in STEPS[:index] if "id" in e}
        for expression in expressions(s) + ([s["if"]] if "if" in s else []):
            if expression.startswith("inputs."):
                assert expression.removeprefix("inputs.") in declared, expression
            for used in re.findall(r"steps\.([\w-]+)\.", expression):
                assert used in earlier, expression
    assert {e.removeprefix("inputs.") for e in expressions(STEPS) if e.startswith("inputs.")} == declared
    assert {name for name, spec in ACTION["inputs"].items() if spec.get("required")} == {"image"}


def test_sarif_is_uploaded_before_error_findings_fail_the_job():
    # Given the steps after the check
    names = [s.get("uses", s.get("id", "")) for s in STEPS]
    upload = next(s for s in STEPS if s.get("uses", "").startswith("github/codeql-action/upload-sarif@"))
    fail = STEPS[-1]
    # Then the upload comes first, takes the check's SARIF file, and the job fails after it on exit 1
    assert names.index(upload["uses"]) < len(STEPS) - 1
    assert upload["with"]["sarif_file"] == "${{ steps.check.outputs.sarif-file }}"
    assert "if" not in upload  # runs whenever the check read the image
    assert fail["if"] == "steps.check.outputs.exit-code == '1'"
    assert fail["run"].rstrip().endswith("exit 1")


def test_every_input_reaches_the_command(tmp_path):
    # Given a stand-in for studio-image that records its arguments
    calls = tmp_path / "calls"
    fake = tmp_path / "studio-image"
    fake.write_text(f'#!/bin/sh\necho "$*" >> {calls}\nexit 1\n')
    fake.chmod(0o755)
    inputs = {
        "image": "docker-archive:build/image.tar",
        "profile": "jupyterlab",
        "policy": ".studio/policy.yaml",
        "format": "junit",
        "platform": "linux/arm64",
    }
    # When the check step runs
    found = run_check_step(tmp_path, fake, inputs)
    # Then the command gets each input, once for SARIF and once in the format asked for
    common = (
        "check docker-archive:build/image.tar --platform linux/arm64 --profile jupyterlab "
        "--policy .studio/policy.yaml"
    )
    assert calls.read_text().splitlines() == [f"{common} --format sarif", f"{common} --format junit"]
    assert (found["returncode"], found["exit-code"]) == ("0", "1")
    assert found["report-file"].endswith(".junit")


@pytest.mark.parametrize(("severity", "exit_code"), [("error", "1"), ("warning", "0")])
def test_the_check_step_writes_sarif_and_the_report(make_compliant, tmp_path, severity, exit_code):
    # Given an image with a file under /opt/ml, and a policy that grades that rule
    reference = make_compliant(Layer().file("opt/ml/x"))
    policy = tmp_path / "policy.yaml"
    policy.write_text(f"severity: {{reserved-path: {severity}}}\n")
    cli = Path(sys.executable).parent / "studio-image"
    # When the check step runs with the real CLI
    found = run_check_step(tmp_path, cli, {"image": reference, "policy": str(policy), "format": "junit"})
    # Then the step passes, says whether the image has error findings, and leaves both files
    assert found["returncode"] == "0", found["stderr"]
    assert found["exit-code"] == exit_code
    sarif = json.loads(Path(found["sarif-file"]).read_text())
    assert [r["ruleId"] for r in sarif["runs"][0]["results"]] == ["reserved-path"]
    assert sarif["runs"][0]["results"][0]["level"] == severity
    assert ET.parse(found["report-file"]).getroot().tag == "testsuites"


def test_an_unreadable_image_fails_the_step_before_any_upload(tmp_path):
    cli = Path(sys.executable).parent / "studio-image"
    found = run_check_step(tmp_path, cli, {"image": f"oci:{tmp_path}/absent"})
    assert found["returncode"] == "2"
    assert "ImageNotFound" in found["stderr"]
    assert "sarif-file" not in found
