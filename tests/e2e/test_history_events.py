"""A real run's Step Functions history, counted: each round of the three waits costs the events
pipeline.history charges, and the whole run stays within its bound."""

from __future__ import annotations

import json
from dataclasses import replace
from itertools import pairwise

import boto3

import moto_studio
from moto_studio.scanning import SCAN_RESULT_LABEL
from studio_image.pipeline import history
from studio_image_sandbox.samples import compliant

from .conftest import REGION, deployed

CONFIGURATION = {
    "repositories": [
        {
            "match": "studio/*",
            "profile": "kernel-gateway",
            "policy": {"vulnerabilities": {"fail_on": "HIGH", "wait_seconds": 3}},
            "canary": {"enabled": True, "user_profile": "alice", "budget_seconds": 4},
        }
    ]
}
LOOPS = ("WatchVulnerabilityScan", "CheckVersion", "WatchCanary")


def test_each_wait_round_costs_nine_events_and_the_run_stays_within_its_bound(tmp_path):
    with deployed(tmp_path, CONFIGURATION) as pipeline:
        # Given a scan that never completes and a canary app that never starts (every loop goes round)
        boto3.client("ecr", region_name=REGION).create_repository(
            repositoryName="studio/rounds", imageScanningConfiguration={"scanOnPush": True}
        )
        moto_studio.settings.script_app("studio-rounds", never_starts=True)
        # (WatchCanary's environment warm, so no cold start eats the canary's 4 s budget)
        warm = pipeline.awslambda.invoke(
            FunctionName=pipeline.stack.functions["WatchCanaryFunction"], Payload=b"{}"
        )
        assert "FunctionError" in warm  # not a watch's input; the environment stays warm
        spec = compliant("kernel-gateway")
        spec = replace(spec, labels={**spec.labels, SCAN_RESULT_LABEL: json.dumps({"status": "IN_PROGRESS"})})
        # When the image is pushed (VersionPollSeconds 1)
        execution = pipeline.run(spec, "studio/rounds")
        events = pipeline.history(execution["executionArn"])
    # Then each loop's looks are 9 events apart: Wait, Task and Choice states, as charged
    entered = {name: [] for name in LOOPS}
    for event in events:
        name = (event.get("stateEnteredEventDetails") or {}).get("name")
        if event["type"] == "TaskStateEntered" and name in entered:
            entered[name].append(event["id"])
    assert len(entered["WatchVulnerabilityScan"]) == history.looks(3, 1) == 4
    assert len(entered["WatchCanary"]) >= 2
    gaps = {b - a for ids in entered.values() for a, b in pairwise(ids)}
    assert gaps == {history.EVENTS_PER_ROUND}
    # And the run's history is within what the budget allows for its rounds
    rounds = sum(len(ids) for ids in entered.values())
    assert execution.get("error") == "CanaryFailed"
    assert len(events) <= history.RUN_EVENTS + history.EVENTS_PER_ROUND * rounds
