"""Limits AWS enforces, kept by the pipeline: a run's Step Functions history under 25,000 events (the
worst run counted from the real state machine, configurations whose loops could pass it refused),
the one domain IAM covers, and the service models' names, enums and URIs."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from botocore.loaders import Loader
from botocore.stub import Stubber

from studio_image.aws.ecr import Ecr
from studio_image.errors import (
    ConfigurationInvalid,
    ImageNotFound,
    ImageReadError,
    ReferenceInvalid,
    RegistryAuthFailed,
    RegistryUnavailable,
)
from studio_image.oci import Descriptor
from studio_image.pipeline import history
from studio_image.pipeline.config import display_name, load_config
from studio_image.pipeline.images import ecr_uri
from studio_image.pipeline.limits import MAX_LAYERS, custom_image_limit
from studio_image.pipeline.models import ImageRead, LayerRef, Pushed
from studio_image.pipeline.settings import Settings, load_settings
from studio_image.pipeline.startwatch import watch_app_start

DIGEST = "sha256:" + "a" * 64
ASL = Path(__file__).parents[2] / "statemachine" / "pipeline.asl.json"
# Events of one visit to a state, as a Standard execution's history records them (counted in a
# sandbox run by tests/e2e/test_history_events.py; the types are HistoryEvent's, Step Functions API).
VISIT = {"Pass": 2, "Choice": 2, "Wait": 2, "Succeed": 2, "Fail": 1}  # ...Entered (and ...Exited)
# TaskStateEntered, LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionSucceeded, TaskStateExited
TASK = 5
RETRY = 3  # each retry: LambdaFunctionScheduled, LambdaFunctionStarted, LambdaFunctionFailed
MAP = 4  # MapStateEntered, MapStateStarted, MapStateSucceeded, MapStateExited
ITERATION = 2  # MapIterationStarted, MapIterationSucceeded
EXECUTION = 2  # ExecutionStarted, and ExecutionSucceeded or ExecutionFailed


def successors(state: dict[str, Any]) -> list[str]:
    found = [state.get("Next"), state.get("Default")]
    found += [choice["Next"] for choice in state.get("Choices", [])]
    found += [catch["Next"] for catch in state.get("Catch", [])]
    return [name for name in found if name]


def visit_events(state: dict[str, Any], *, retried: bool = True) -> int:
    kind = state["Type"]
    if kind == "Task":
        retries = sum(r.get("MaxAttempts", 3) for r in state.get("Retry", [])) if retried else 0
        return TASK + RETRY * retries
    if kind == "Map":
        return MAP + MAX_LAYERS * (ITERATION + longest(state["ItemProcessor"])[0])
    return VISIT[kind]


def longest(machine: dict[str, Any]) -> tuple[int, list[list[str]]]:
    """The events of the longest path from StartAt, each state visited once with its retries in
    full (a loop's first round included), and every loop met on the way (its states, in order)."""
    states, loops = machine["States"], []

    def walk(name: str, path: list[str]) -> int:
        if name in path:  # a loop: its further rounds are counted apart
            loop = path[path.index(name) :]
            if loop not in loops:
                loops.append(loop)
            return 0
        state = states[name]
        tail = max((walk(n, [*path, name]) for n in successors(state)), default=0)
        return visit_events(state) + tail

    return walk(machine["StartAt"], []), loops


@pytest.fixture(scope="module")
def machine() -> dict[str, Any]:
    return json.loads(ASL.read_text())


def test_every_loop_round_costs_the_events_the_budget_assumes(machine):
    # Given the real state machine
    _, loops = longest(machine)
    # When each loop's round is counted (Wait, Task and Choice, no retry)
    rounds = {
        tuple(loop): sum(visit_events(machine["States"][s], retried=False) for s in loop) for loop in loops
    }
    # Then there are the three waits, each a Wait, a Task and a Choice: 9 events a round, as
    # pipeline.history charges
    kinds = [sorted(machine["States"][s]["Type"] for s in loop) for loop in rounds]
    assert kinds == [["Choice", "Task", "Wait"]] * 3
    assert set(rounds.values()) == {history.EVENTS_PER_ROUND} == {9}


def test_the_worst_run_stays_under_the_history_limit_with_margin(machine):
    # Given the longest path through the state machine: every Task retried in full, the Map at
    # MAX_LAYERS layers each retried in full, and the execution's own two events
    outside_loops = longest(machine)[0] + EXECUTION
    # Then pipeline.history's RUN_EVENTS covers it, and not by much (the figure stays honest)
    assert outside_loops <= history.RUN_EVENTS < outside_loops + 200
    # And with every loop at the most the configuration check lets through, the run keeps 20% margin
    worst = history.RUN_EVENTS + history.EVENTS_PER_ROUND * history.ROUNDS
    assert worst <= history.HISTORY_BUDGET <= 0.8 * history.HISTORY_LIMIT


def settings(**variables: str) -> Settings:
    return Settings.model_validate(
        {
            "CONFIG_PARAMETER": "/stack/configuration",
            "REPORT_BUCKET": "reports",
            "LAYER_CACHE_TABLE": "layers",
            "STATE_TABLE": "state",
            "TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:topic",
            "IMAGE_ROLE_ARN": "arn:aws:iam::123456789012:role/image",
            "DOMAIN_ID": "d-abc123",
            **variables,
        }
    )


def document(wait_seconds: int | None = None, budget_seconds: int | None = None) -> str:
    binding: dict[str, Any] = {"match": "studio/*", "profile": "kernel-gateway"}
    if wait_seconds is not None:
        binding["policy"] = {"vulnerabilities": {"fail_on": "HIGH", "wait_seconds": wait_seconds}}
    if budget_seconds is not None:
        binding["canary"] = {"enabled": True, "user_profile": "alice", "budget_seconds": budget_seconds}
    return json.dumps({"repositories": [binding]})


def test_the_defaults_fit_at_the_default_poll():
    # Given a binding with a vulnerability gate and a canary at their defaults (600 s, 900 s)
    text = json.dumps(
        {
            "repositories": [
                {
                    "match": "studio/*",
                    "profile": "kernel-gateway",
                    "policy": {"vulnerabilities": {"fail_on": "HIGH"}},
                    "canary": {"enabled": True, "user_profile": "alice"},
                }
            ]
        }
    )
    # When it is read with the default settings (15 s poll, 120 version checks), it loads
    assert load_config(text, "p", settings()).repositories[0].canary.budget_seconds == 900


@pytest.mark.parametrize(
    ("poll", "wait", "budget", "named", "largest"),
    [
        ("15", 86_400, None, "policy.vulnerabilities.wait_seconds", 17_024),  # 1,135 looks at 15 s
        ("1", None, 3_600, "canary.budget_seconds", 1_134),  # 1,135 looks at 1 s
        ("1", 600, 3_600, "canary.budget_seconds", 533),  # after the scan's 601 looks
    ],
)
def test_loops_past_the_budget_are_refused_naming_the_largest_value_that_fits(
    poll, wait, budget, named, largest
):
    # Given the deployment's poll interval and a binding whose waits could pass the run's history
    deployment = settings(VERSION_POLL_SECONDS=poll)
    # When the configuration is read, it is refused, naming the largest value at this poll
    with pytest.raises(ConfigurationInvalid, match=rf"{named} at most {largest}\b") as refused:
        load_config(document(wait, budget), "/stack/configuration", deployment)
    assert "25,000 events" in str(refused.value) and "no notification" in str(refused.value)
    # And that value loads, one second more does not
    fitting = {"wait": wait, "budget": budget} | {"wait" if "wait" in named else "budget": largest}
    load_config(document(fitting["wait"], fitting["budget"]), "p", deployment)
    over = fitting | {"wait" if "wait" in named else "budget": largest + int(poll)}
    with pytest.raises(ConfigurationInvalid):
        load_config(document(over["wait"], over["budget"]), "p", deployment)


def test_version_checks_past_the_budget_are_refused_with_the_settings(monkeypatch):
    # Given VERSION_MAX_POLLS above the rounds a run's history holds
    for name, value in settings().model_dump(by_alias=True).items():
        monkeypatch.setenv(name, str(value))
    monkeypatch.setenv("VERSION_MAX_POLLS", str(history.ROUNDS + 1))
    load_settings.cache_clear()
    # When the settings are read, they are refused, naming the largest value
    with pytest.raises(ConfigurationInvalid, match=rf"VERSION_MAX_POLLS.*at most {history.ROUNDS}:"):
        load_settings()
    # And at the limit they are accepted
    monkeypatch.setenv("VERSION_MAX_POLLS", str(history.ROUNDS))
    load_settings.cache_clear()
    assert load_settings().version_max_polls == history.ROUNDS
    load_settings.cache_clear()


def test_a_binding_for_another_domain_is_refused_when_read():
    # Given a deployment for d-abc123 and bindings naming it, no domain, and another one
    ours = json.dumps({"repositories": [{"match": "a/*", "profile": "jupyterlab", "domain_id": "d-abc123"}]})
    unnamed = json.dumps({"repositories": [{"match": "a/*", "profile": "jupyterlab"}]})
    other = json.dumps({"repositories": [{"match": "a/*", "profile": "jupyterlab", "domain_id": "d-other"}]})
    # When they are read, the first two load
    assert load_config(ours, "p", settings()).repositories[0].domain_id == "d-abc123"
    assert load_config(unnamed, "p", settings()).repositories[0].domain_id is None
    # Then the other domain is refused, saying the deployment's IAM covers its own domain only
    with pytest.raises(
        ConfigurationInvalid, match=r"domain_id 'd-other' is not this deployment's domain \(d-abc123\)"
    ):
        load_config(other, "/stack/configuration", settings())


@pytest.mark.parametrize(
    ("region", "host"),
    [
        ("us-east-1", "123456789012.dkr.ecr.us-east-1.amazonaws.com"),
        ("cn-north-1", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn"),
        ("cn-northwest-1", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"),
        ("us-gov-west-1", "123456789012.dkr.ecr.us-gov-west-1.amazonaws.com"),
        ("us-iso-east-1", "123456789012.dkr.ecr.us-iso-east-1.c2s.ic.gov"),
    ],
)
def test_an_image_uri_has_its_partitions_dns_suffix(region, host):
    # Given a push in a region of some partition
    pushed = Pushed(account="123456789012", region=region, repository="studio/a", digest="sha256:" + "a" * 64)
    # When the URI SageMaker pulls is made, its registry is the partition's
    assert ecr_uri(pushed) == f"{host}/studio/a@sha256:{'a' * 64}"


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("  Data science  ", "Data science"),  # trimmed
        ("Team\nimage\t 2", "Team image 2"),  # the pattern's `.` matches no line break
        ("x" * 127 + " yz", "x" * 127),  # clipped to 128, then trimmed again
        (" \n ", "studio/a"),  # nothing left: the binding's, else the repository's name
        (None, "studio/a"),
    ],
)
def test_a_display_name_is_one_sagemaker_takes(label, expected):
    # Given a display name from an image's label (anything a Dockerfile can write)
    name = display_name(label, None, "studio/a")
    # Then it is the one expected, and within botocore's ImageDisplayName
    shape = Loader().load_service_model("sagemaker", "service-2")["shapes"]["ImageDisplayName"]
    assert name == expected
    assert shape["min"] <= len(name) <= shape["max"] and re.fullmatch(shape["pattern"], name)


def test_a_blank_display_name_in_a_binding_is_refused():
    blank = json.dumps({"repositories": [{"match": "a/*", "profile": "jupyterlab", "display_name": " \t"}]})
    with pytest.raises(ConfigurationInvalid, match="display_name is blank"):
        load_config(blank, "p")


FAILURES = {
    "ImageNotFound": ImageNotFound,
    "InvalidImageDigest": ReferenceInvalid,
    "InvalidImageTag": ReferenceInvalid,
    "ImageTagDoesNotMatchDigest": ReferenceInvalid,
    "MissingDigestAndTag": ReferenceInvalid,
    "ImageReferencedByManifestList": ImageReadError,
    "KmsError": ImageReadError,
    "ImageInaccessible": ImageReadError,
    "UpstreamAccessDenied": RegistryAuthFailed,
    "UpstreamTooManyRequests": RegistryUnavailable,
    "UpstreamUnavailable": RegistryUnavailable,
}


def answering_failure(code: str) -> tuple[Any, Stubber]:
    client = boto3.client("ecr", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    stubber = Stubber(client)
    failure = {"imageId": {"imageDigest": DIGEST}, "failureCode": code, "failureReason": f"because {code}"}
    stubber.add_response("batch_get_image", {"images": [], "failures": [failure]})
    return client, stubber


def test_every_batch_get_image_failure_code_has_its_typed_error():
    # Then the table below covers every code botocore's ImageFailureCode lists
    enum = Loader().load_service_model("ecr", "service-2")["shapes"]["ImageFailureCode"]["enum"]
    assert sorted(FAILURES) == sorted(enum)


@pytest.mark.parametrize(("code", "error"), FAILURES.items())
def test_a_batch_get_image_failure_is_its_typed_error(code, error):
    # Given ECR answering BatchGetImage with a failure of this code
    client, stubber = answering_failure(code)
    # When the manifest is read, the failure is our error of that kind, naming code and reason
    with stubber, pytest.raises(error, match=rf"{code}: because {code}") as raised:
        Ecr(client).get_manifest("studio/a", None, {"imageDigest": DIGEST}, ["application/json"])
    assert type(raised.value) is error


@pytest.mark.parametrize("code", ["UpstreamUnavailable", "KmsError"])
def test_an_image_ecr_could_not_read_is_not_taken_for_a_deleted_one(code):
    # Given ECR failing to read an image (not saying it is gone)
    client, stubber = answering_failure(code)
    # When the retire path asks whether it is still there, it gets the error, not "no"
    with stubber, pytest.raises(FAILURES[code]):
        Ecr(client).has_image("studio/a", None, DIGEST)
    # And an image ECR does not find is not there
    client, stubber = answering_failure("ImageNotFound")
    with stubber:
        assert Ecr(client).has_image("studio/a", None, DIGEST) is False


@pytest.mark.parametrize("instance_type", ["ml.t3.mediun", "system", "t3.medium"])
def test_a_canary_instance_type_sagemaker_has_not_is_refused(instance_type):
    # Given a canary on an instance type CreateApp would refuse (misspelt, a JupyterServer's, no ml.)
    binding = {
        "match": "a/*",
        "profile": "kernel-gateway",
        "canary": {"enabled": True, "user_profile": "alice"},
    }
    text = json.dumps(
        {"repositories": [binding | {"canary": binding["canary"] | {"instance_type": instance_type}}]}
    )
    # When the configuration is read, it is refused, naming the setting
    with pytest.raises(ConfigurationInvalid, match=rf"canary.instance_type '{instance_type}' is not"):
        load_config(text, "p")
    # And one from botocore's AppInstanceType loads
    text = json.dumps(
        {"repositories": [binding | {"canary": binding["canary"] | {"instance_type": "ml.g5.xlarge"}}]}
    )
    assert load_config(text, "p").repositories[0].canary.instance_type == "ml.g5.xlarge"


def test_layer_annotations_stay_out_of_the_run_state():
    # Given MAX_LAYERS layers whose descriptors each carry 100 KB of annotations (and a platform)
    annotated = {
        "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
        "digest": DIGEST,
        "size": 1234,
        "annotations": {f"note.{i}": "x" * 1000 for i in range(100)},
        "platform": {"architecture": "amd64", "os": "linux"},
    }
    layers = [LayerRef(index=i, descriptor=Descriptor.model_validate(annotated)) for i in range(MAX_LAYERS)]
    image = ImageRead(manifest_digest=DIGEST, platform="linux/amd64", resolved_key="images/k", layers=layers)
    # When the image read travels in the run's state
    state = json.dumps(image.dump())
    # Then each layer keeps what reading it takes, and the whole is far under 256 KiB
    assert image.dump()["layers"][0]["descriptor"] == {
        "mediaType": annotated["mediaType"],
        "digest": DIGEST,
        "size": 1234,
        "annotations": {},
    }
    assert len(state.encode()) < 64 * 1024


def test_another_domains_app_start_is_dropped_before_any_call():
    # Given a deployment for d-abc123, and start-up lines of a failing app in another domain (the
    # subscription's filter pattern matches messages, not stream names: every domain's lines come)
    svc: Any = SimpleNamespace(settings=settings())  # no client: a call would fail the test
    stream = "d-other/alice/KernelGateway/their-app"
    # When they are delivered
    result = watch_app_start(stream, ["exec /opt/conda/bin/python3: exec format error"], svc)
    # Then nothing is notified, and the reason names the other domain
    assert (result.notified, result.reason) == (False, "an app of domain d-other, not this deployment's")


@pytest.mark.parametrize(
    ("setting", "app_key", "limit"),
    [
        ("UserProfile", "KernelGatewayAppSettings", 5),
        ("Space", "KernelGatewayAppSettings", 5),
        ("DefaultUserSettings", "KernelGatewayAppSettings", 200),
        ("DefaultSpaceSettings", "KernelGatewayAppSettings", 200),
        ("UserProfile", "JupyterLabAppSettings", 200),
        ("Space", "CodeEditorAppSettings", 200),
        ("UserProfile", "RSessionAppSettings", 200),
    ],
)
def test_the_five_image_limit_is_where_sagemaker_documents_it(setting, app_key, limit):
    # Given botocore's documentation of each app's CustomImages: levels only for KernelGateway's
    shapes = Loader().load_service_model("sagemaker", "service-2")["shapes"]
    documented = shapes[app_key]["members"]["CustomImages"]["documentation"]
    assert ("On a user profile level: 5" in documented) == (app_key == "KernelGatewayAppSettings")
    # Then the pipeline's limit on that target is 5 only there, else the list's own 200
    assert shapes["CustomImages"]["max"] == 200
    assert custom_image_limit(setting, app_key) == limit
