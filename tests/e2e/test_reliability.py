"""Failing AWS calls: each call a run makes, with each fault tried on it (tests/e2e/faultcases.py).
The run either retries to success, or fails with one notification that names the cause; a rerun
of the same event then completes, and nothing is left twice or running: one created version, one
config for it, one entry per target, no canary app up.

STUDIO_IMAGE_RELIABILITY_OUT=FILE records each case's outcome for scripts/reliability_table.py."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from collections.abc import Iterator

import pytest

import moto_studio
from moto_studio import faults
from studio_image_sandbox.samples import compliant

from .conftest import CONFIGURATION, Pipeline, deployed
from .faultcases import Case, cases, record

TARGETS = ("domain", "alice", "shared")


def canary_configuration() -> dict:
    bindings = json.loads(json.dumps(CONFIGURATION["repositories"]))
    bindings[-1]["canary"] = {"enabled": True, "user_profile": "alice", "budget_seconds": 30}
    return {"repositories": bindings}


@pytest.fixture(scope="module")
def warm(tmp_path_factory) -> Iterator[Pipeline]:
    """One deployment for the whole table: its execution environments stay warm between cases."""
    with deployed(tmp_path_factory.mktemp("faults"), canary_configuration()) as pipeline:
        yield pipeline


def targets(pipeline: Pipeline) -> dict[str, list[dict]]:
    sm = pipeline.sagemaker
    domain = sm.describe_domain(DomainId=pipeline.domain_id)["DefaultUserSettings"]
    alice = sm.describe_user_profile(DomainId=pipeline.domain_id, UserProfileName="alice")["UserSettings"]
    shared = sm.describe_space(DomainId=pipeline.domain_id, SpaceName="shared")["SpaceSettings"]
    return {name: pipeline.custom_images(s) for name, s in zip(TARGETS, (domain, alice, shared), strict=True)}


def detach(pipeline: Pipeline, image: str) -> None:
    """Take the case's image off every target, so the next case has room (5 per profile or space)."""
    sm, domain_id = pipeline.sagemaker, pipeline.domain_id
    for name, images in targets(pipeline).items():
        kept = {"KernelGatewayAppSettings": {"CustomImages": [i for i in images if i["ImageName"] != image]}}
        if name == "domain":
            sm.update_domain(DomainId=domain_id, DefaultUserSettings=kept)
        elif name == "alice":
            sm.update_user_profile(DomainId=domain_id, UserProfileName="alice", UserSettings=kept)
        else:
            sm.update_space(DomainId=domain_id, SpaceName="shared", SpaceSettings=kept)


def assert_nothing_twice_and_nothing_running(pipeline: Pipeline, image: str) -> None:
    sm = pipeline.sagemaker
    versions = sm.list_image_versions(ImageName=image)["ImageVersions"]
    created = [v["Version"] for v in versions if v["ImageVersionStatus"] == "CREATED"]
    assert len(created) == 1, versions
    configs = sm.list_app_image_configs(NameContains=image)["AppImageConfigs"]
    assert [c["AppImageConfigName"] for c in configs] == [f"{image}-v{created[0]}"]
    for target, images in targets(pipeline).items():
        ours = [(i["ImageVersionNumber"], i["AppImageConfigName"]) for i in images if i["ImageName"] == image]
        assert ours == [(created[0], f"{image}-v{created[0]}")], target
    apps = sm.list_apps(DomainIdEquals=pipeline.domain_id)["Apps"]
    assert [a["AppName"] for a in apps if a["Status"] not in ("Deleted", "Failed")] == []


def cause_code(error: dict) -> str:
    """The AWS error code (or Lambda error type) the notified cause quotes."""
    message = json.loads(error["Cause"])["errorMessage"]
    found = re.search(r": ([A-Z][A-Za-z]+(Exception|Error|Found|InUse|Failure|Throttled)?): ", message)
    return found.group(1) if found else json.loads(error["Cause"])["errorType"]


# `make test` runs three of the table (a Lambda killed, a DynamoDB server error, SageMaker's
# ResourceInUse); tests/unit/test_error_tables.py checks every call's errors and every state's
# retries in milliseconds; `make test-all` runs the whole table.
CORE = {"Attach-killed", "PutItem-5xx", "UpdateDomain-in-use"}


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(case, id=case.name, marks=[pytest.mark.core] if case.name in CORE else [])
        for case in cases()
    ],
)
def test_a_failing_call_is_retried_or_named_and_a_rerun_leaves_nothing_twice(warm, case: Case):
    pipeline = warm
    moto_studio.settings.domain_update_seconds = 0.1
    repository = f"studio/fault-{case.name.lower()}"
    image = f"studio-fault-{case.name.lower()}"  # derived from the repository, its prefix said once
    digest = pipeline.push(compliant("kernel-gateway"), repository)
    pipeline.notifications()
    # Given the fault armed
    faults.inject(dataclasses.replace(case.fault))
    # When the image's push event is delivered
    first = pipeline.finish(pipeline.start(repository, digest), timeout=300)
    # Then the fault was met, and the run either passed or failed with one notification naming why
    assert faults.fired, f"the run never made the call {case.fault}"
    notes = pipeline.notifications()
    assert len(notes) == 1, [n["Subject"] for n in notes]
    doc = json.loads(notes[0]["Message"])
    if first["status"] == "SUCCEEDED":
        assert doc["outcome"] == "passed", notes[0]["Subject"]
        outcome = "retried to success"
    else:
        assert doc["outcome"] == "failed" and first["error"] == "PipelineFailed", notes[0]["Subject"]
        error = doc["error"]
        assert error["Error"] in notes[0]["Subject"], notes[0]["Subject"]
        # naming the state that failed, one the run entered
        step = doc["failed_step"]
        assert f"The pipeline failed in {step}: {error['Error']}" in doc["text"], doc["text"]
        history = pipeline.history(first["executionArn"])
        entered = {e["stateEnteredEventDetails"]["name"] for e in history if "stateEnteredEventDetails" in e}
        assert step in entered, (step, entered)
        # (SageMaker's ResourceInUse on a Create means "it exists": the run goes on to a call that
        # then fails for the real reason, and that is the cause named)
        assert case.cause() in error["Cause"] or case.fault.kind == "resource_in_use", error
        assert json.loads(error["Cause"])["errorMessage"][:80] in doc["text"]
        # And a rerun of the same event, with nothing failing, passes
        faults.reset()
        rerun = pipeline.finish(pipeline.start(repository, digest), timeout=300)
        assert rerun["status"] == "SUCCEEDED", rerun.get("error")
        renotes = pipeline.notifications()
        assert [json.loads(n["Message"])["outcome"] for n in renotes] == ["passed"]
        code = cause_code(error)
        named = error["Error"] if code == error["Error"] else f"{error['Error']} ({code})"
        outcome = f"failed in {step}, notified {named}; rerun passed"
    # And nothing is there twice, and no canary app is left running
    assert_nothing_twice_and_nothing_running(pipeline, image)
    detach(pipeline, image)
    if os.environ.get("STUDIO_IMAGE_RELIABILITY_OUT"):
        record(os.environ["STUDIO_IMAGE_RELIABILITY_OUT"], case, outcome)
