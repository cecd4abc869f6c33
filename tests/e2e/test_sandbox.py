"""The sandbox through its own commands: `studio-image sandbox demo`, `push` against a running
sandbox, and `up` serving other processes over HTTP, as a person would use them."""

from __future__ import annotations

import dataclasses
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from studio_image.cli import main
from studio_image_sandbox.ocibuild import Layout, build_image
from studio_image_sandbox.samples import SAMPLES, compliant
from studio_image_sandbox.sandbox import DEFAULT_CONFIGURATION, STATE_FILE, Options, Sandbox, running
from studio_image_sandbox.stack import ROOT, TemplateError, deploy

STUDIO_IMAGE = Path(sys.executable).with_name("studio-image")
PARAMETERS = {
    "DomainId": "d-studio",
    "ImageRoleArn": "arn:aws:iam::123456789012:role/studio-execution",
    "Configuration": json.dumps(DEFAULT_CONFIGURATION),
}


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, object]:
    code = main(list(argv))
    return code, json.loads(capsys.readouterr().out)


@pytest.fixture
def sandbox_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    directory = tmp_path / "sandbox"
    monkeypatch.setenv("STUDIO_IMAGE_SANDBOX_DIR", str(directory))
    return directory


@pytest.fixture
def sandbox(sandbox_dir: Path) -> Iterator[Sandbox]:
    """A running sandbox, recorded where the commands look for one (as `sandbox up` does)."""
    with running(Options(sagemaker_seconds=0.2), sandbox_dir) as started:
        started.save()
        yield started


def test_the_demo_gives_every_sample_its_verdict_and_attaches_only_what_passes(sandbox_dir, capsys):
    # Given no running sandbox, when `sandbox demo --format json` runs (it starts a private one)
    code, rows = run_json(capsys, "sandbox", "demo", "--format", "json", "--sagemaker-seconds", "0.2")
    # Then every sample went through the pipeline with the profile and verdict it was built for
    assert code == 0
    assert [row["image"] for row in rows] == [f"studio/{sample.name}:1.0" for sample in SAMPLES]
    for row, sample in zip(rows, SAMPLES, strict=True):
        assert (row["profile"], row["verdict"]) == (sample.profile, sample.expect), row
        registered = sample.expect == "pass" and sample.profile != "gateway-provisioners"
        # And what passed (and is a Studio image) is registered; it stays attached only if its
        # canary app started; nothing refused is registered
        assert (row["image_version_arn"] is not None) is registered, row
        assert row["attached"] is (registered and sample.starts), row
        prefix = (
            "[REFUSED]" if sample.expect == "fail" else "[PASSED]" if sample.starts else "[CANARY-FAILED]"
        )
        assert row["notification"].startswith(prefix), row
    refused = {row["image"]: row["notification"] for row in rows if row["verdict"] == "fail"}
    assert "(platform)" in refused["studio/arm64-only:1.0"]
    assert "(reserved-path)" in refused["studio/opt-ml:1.0"]
    assert "(owner-id-range)" in refused["studio/uid-70000:1.0"]
    assert "(kernelspec-invalid)" in refused["studio/kernel-gone:1.0"]
    assert "(vulnerability)" in refused["studio/cve-xz:1.0"]
    crashed = next(row for row in rows if row["image"] == "studio/crashes-at-start:1.0")
    assert crashed["notification"].endswith("v1: python-traceback; rolled back")


def test_the_same_image_pushed_twice_gives_one_version_and_two_notifications(sandbox, tmp_path, capsys):
    # Given a running sandbox and a compliant image
    reference = build_image(tmp_path / "image", compliant("kernel-gateway"), "1.0")
    push = ("sandbox", "push", reference, "--repository", "studio/twice", "--wait", "--format", "json")
    # When it is pushed under one tag, then again under another
    first_code, first = run_json(capsys, *push, "--tag", "1.0")
    _, delivered = run_json(capsys, "sandbox", "notifications", "--format", "json")
    assert [n["subject"] for n in delivered] == [first["notification"]]
    second_code, second = run_json(capsys, *push, "--tag", "1.1")
    # Then the first run registers and attaches it, and the second changes nothing
    assert (first_code, first["status"], first["outcome"]) == (0, "SUCCEEDED", "passed")
    assert first["attached"] is True
    assert (second_code, second["status"], second["outcome"]) == (0, "SUCCEEDED", "unchanged")
    assert second["verdict"] == "pass" and second["attached"] is False
    assert second["image_version_arn"] == first["image_version_arn"]
    versions = sandbox.client("sagemaker").list_image_versions(ImageName="studio-twice")
    assert len(versions["ImageVersions"]) == 1
    # And SNS delivered one notification per push (each read once, all kept), the second saying the
    # digest was handled before
    _, delivered = run_json(capsys, "sandbox", "notifications", "--format", "json")
    assert [n["subject"] for n in delivered] == [first["notification"], second["notification"]]
    assert delivered[1]["subject"] == "[UNCHANGED] studio/twice:1.1: this digest was already passed"
    assert first["execution_arn"] in delivered[1]["document"]["text"]
    # And `sandbox executions` lists both, newest first
    _, runs = run_json(capsys, "sandbox", "executions", "--format", "json")
    assert [run["execution_arn"] for run in runs] == [second["execution_arn"], first["execution_arn"]]


def test_push_shows_each_state_then_the_notification(sandbox, tmp_path, capsys):
    # Given an image with a file owned by UID 70000 (the uid-70000 sample)
    sample = next(s for s in SAMPLES if s.name == "uid-70000")
    reference = sample.build(tmp_path)
    # When it is pushed with --wait in text form
    code = main(["sandbox", "push", reference, "--repository", "studio/owned", "--tag", "1", "--wait"])
    out = capsys.readouterr().out
    # Then the display names the states in the order they ran, ends FAILED (ImageRefused),
    # and prints the notification as email would carry it, with the finding and its fix
    assert code == 1
    states = [line.split()[1] for line in out.splitlines() if line.startswith("  ✓ ")]
    assert states == ["Resolve", "ScanLayers", "Evaluate", "Notify"]
    assert "  ◇ Verdict → Notify" in out
    assert "✘ FAILED (ImageRefused)" in out
    # And the first run in a new sandbox marks its cold starts, and its layers scanning side by side
    shown = {line.split()[1]: line for line in out.splitlines() if line.startswith("  ✓ ")}
    assert shown["Resolve"].endswith("❄ 1 cold start")
    scanned = re.search(r"(\d+)/\1 layers scanned, up to (\d+) at once", shown["ScanLayers"])
    assert scanned and int(scanned[2]) > 1, out
    assert "  | [REFUSED] studio/owned:1: 1 error (owner-id-range)" in out
    assert "  |   Fix: " in out and "/report.md" in out


def test_a_push_the_rule_does_not_match_or_an_unreadable_image_is_a_clear_error(sandbox, tmp_path, capsys):
    reference = build_image(tmp_path / "image", compliant("kernel-gateway"), "1.0")
    assert main(["sandbox", "push", reference, "--repository", "elsewhere/x", "--tag", "1"]) == 2
    error = capsys.readouterr().err
    assert error == (
        "studio-image: SandboxError: the pipeline's rule does not match a push to elsewhere/x: "
        "it takes repositories starting with 'studio/'\n"
    )
    absent = f"oci:{tmp_path}/absent:1"
    assert main(["sandbox", "push", absent, "--repository", "studio/x", "--tag", "1"]) == 2
    assert "ImageNotFound" in capsys.readouterr().err


def test_up_serves_the_pipeline_to_other_processes_until_stopped(tmp_path):
    # Given `studio-image sandbox up` running as its own process
    environment = {**os.environ, "STUDIO_IMAGE_SANDBOX_DIR": str(tmp_path / "sandbox")}
    state = tmp_path / "sandbox" / STATE_FILE
    up = subprocess.Popen(
        [str(STUDIO_IMAGE), "sandbox", "up", "--sagemaker-seconds", "0.2"],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 600  # a bound, not an expectation: deploying on a busy machine
        while not state.exists():
            assert up.poll() is None and time.monotonic() < deadline, up.stdout.read() if up.stdout else ""
            time.sleep(0.2)
        endpoint = json.loads(state.read_text())["endpoint"]
        # When another process pushes an image into it
        reference = build_image(tmp_path / "image", compliant("jupyterlab"), "2.0")
        command = [str(STUDIO_IMAGE), "sandbox", "push", reference, "--repository", "studio/jupyterlab-team"]
        pushed = subprocess.run(
            [*command, "--tag", "2.0", "--wait", "--format", "json"],
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )
        # Then the execution ran in the sandbox and any AWS client pointed at it sees the result
        assert pushed.returncode == 0, pushed.stderr
        result = json.loads(pushed.stdout)
        assert (result["status"], result["verdict"], result["attached"]) == ("SUCCEEDED", "pass", True)
        sagemaker = boto3.client(
            "sagemaker",
            endpoint_url=endpoint,
            region_name="us-east-1",
            aws_access_key_id="x",
            aws_secret_access_key="x",
        )
        profile = sagemaker.describe_user_profile(DomainId="d-studio", UserProfileName="alice")
        images = profile["UserSettings"]["JupyterLabAppSettings"]["CustomImages"]
        assert [image["ImageName"] for image in images] == ["studio-jupyterlab-team"]
    finally:
        up.send_signal(signal.SIGTERM)
        up.wait(timeout=300)
    # And a stopped sandbox leaves no record behind for the next command to find
    assert up.returncode == 0
    assert not state.exists()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (("CodeUri: functions/notify/", "CodeUri: functions/notifier/"), "notifier/app.py does not exist"),
        (("    Handler: app.handler", "    Handler: app.main"), "defines no function main"),
        (("NotifyFunctionArn: !GetAtt NotifyFunction.Arn", ""), "no substitution for ['NotifyFunctionArn']"),
    ],
)
def test_a_template_mistake_fails_the_sandbox_deployment_not_only_aws(tmp_path, change, problem):
    # Given a copy of the project whose template has one mistake AWS would only find at run time
    for part in ("functions", "statemachine", "layers"):
        shutil.copytree(ROOT / part, tmp_path / part, ignore=shutil.ignore_patterns("__pycache__"))
    template = (ROOT / "template.yaml").read_text()
    assert template.count(change[0]) == 1
    (tmp_path / "template.yaml").write_text(template.replace(*change))
    # When the sandbox deploys it, then the deployment stops and names the mistake
    with mock_aws(), pytest.raises(TemplateError) as raised:
        deploy(PARAMETERS, template_path=tmp_path / "template.yaml")
    assert problem in str(raised.value)


def test_sandbox_push_copies_an_index_and_every_platform_byte_for_byte(sandbox, tmp_path):
    # Given an image index over a linux/amd64 and a linux/arm64 image
    layout = Layout(tmp_path / "multi")
    amd64 = layout.image(compliant("kernel-gateway"))
    arm64 = layout.image(dataclasses.replace(compliant("kernel-gateway"), architecture="arm64"))
    index = layout.index([(amd64, "linux/amd64"), (arm64, "linux/arm64")])
    layout.tag(index, "1.0")
    # When `sandbox push` pushes it
    pushed = sandbox.push(f"oci:{tmp_path / 'multi'}:1.0", "studio/multi", "1.0")
    # Then ECR holds the index and both manifests under their own digests, with their own bytes
    assert pushed.digest == index.digest
    ecr = sandbox.client("ecr")
    found = ecr.describe_images(repositoryName="studio/multi")["imageDetails"]
    assert {i["imageDigest"] for i in found} == {index.digest, amd64.digest, arm64.digest}
    for written in (index, amd64, arm64):
        got = ecr.batch_get_image(repositoryName="studio/multi", imageIds=[{"imageDigest": written.digest}])
        stored = got["images"][0]["imageManifest"].encode()
        assert stored == (tmp_path / "multi" / "blobs" / "sha256" / written.digest.split(":")[1]).read_bytes()
