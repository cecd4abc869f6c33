"""Handlers called as Lambda calls them (Powertools' test conventions: a fake context, metrics
reset), against moto, with the sample events from `events/`."""

from __future__ import annotations

import base64
import gzip
import importlib.util
import json
from dataclasses import dataclass

import boto3
import pytest
from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import AmazonCloudWatchEMFProvider
from moto import mock_aws

from studio_image.errors import ConfigurationInvalid, EventInvalid
from studio_image.pipeline import services
from studio_image.pipeline.settings import load_settings
from studio_image_sandbox.stack import ROOT

REGION = "us-east-1"


@dataclass
class FakeContext:
    function_name: str = "resolve"
    memory_limit_in_mb: int = 1024
    invoked_function_arn: str = f"arn:aws:lambda:{REGION}:123456789012:function:resolve"
    aws_request_id: str = "52fdfc07-2182-154f-163f-5f0f9a621d72"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def handler(step: str):
    spec = importlib.util.spec_from_file_location(f"handler_{step}", ROOT / "functions" / step / "app.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.handler


@pytest.fixture
def deployment(monkeypatch):
    with mock_aws():
        topic = boto3.client("sns", region_name=REGION).create_topic(Name="notices")["TopicArn"]
        boto3.client("ssm", region_name=REGION).put_parameter(
            Name="/pipeline/configuration",
            Type="String",
            Value=json.dumps({"repositories": [{"match": "studio/*", "profile": "kernel-gateway"}]}),
        )
        for name, value in {
            "CONFIG_PARAMETER": "/pipeline/configuration",
            "REPORT_BUCKET": "reports",
            "LAYER_CACHE_TABLE": "layers",
            "STATE_TABLE": "state",
            "TOPIC_ARN": topic,
            "IMAGE_ROLE_ARN": "arn:aws:iam::123456789012:role/images",
            "DOMAIN_ID": "d-abc123",
            "AWS_DEFAULT_REGION": REGION,
            "POWERTOOLS_TRACE_DISABLED": "true",
            "POWERTOOLS_METRICS_NAMESPACE": "Test",
        }.items():
            monkeypatch.setenv(name, value)
        services.services.cache_clear()
        load_settings.cache_clear()
        yield
        services.services.cache_clear()
        load_settings.cache_clear()
        AmazonCloudWatchEMFProvider().clear_metrics()


def test_a_helm_chart_push_is_skipped_with_the_reason(deployment, capsys):
    # Given the sample event of a non-image artifact pushed to a managed repository
    event = json.loads((ROOT / "events" / "push-artifact.json").read_text())
    # When the Resolve handler receives it, as `sam local invoke -e` would send it
    resolved = handler("resolve")(event, FakeContext())
    # Then it is skipped with a reason, and a metric says so
    assert resolved["skip"] == {
        "outcome": "skipped",
        "reason": "not a container image (artifact application/vnd.cncf.helm.config.v1+json)",
    }
    assert '"PushesSkipped"' in capsys.readouterr().out


def test_a_malformed_event_is_a_typed_error_naming_the_bad_field(deployment):
    event = json.loads((ROOT / "events" / "push-tag.json").read_text())
    event["detail"]["image-digest"] = "sha256:not-hex"
    with pytest.raises(EventInvalid, match="image-digest"):
        handler("resolve")(event, FakeContext())


def test_a_missing_environment_variable_is_named(deployment, monkeypatch):
    monkeypatch.delenv("TOPIC_ARN")
    load_settings.cache_clear()
    services.services.cache_clear()
    with pytest.raises(ConfigurationInvalid, match="TOPIC_ARN"):
        handler("notify")({"execution_arn": "x", "event": {}}, FakeContext())


def test_notify_publishes_one_message_for_a_skipped_run(deployment):
    # Given a run Resolve ended (its decision at $.resolved)
    state = {
        "execution_arn": "arn:aws:states:us-east-1:123456789012:execution:sm:run",
        "event": {},
        "resolved": {
            "pushed": {"account": "123456789012", "region": REGION, "repository": "other/lab", "tag": "1.0"},
            "skip": {
                "outcome": "skipped",
                "reason": "no binding in the configuration matches this repository",
            },
        },
    }
    # When Notify runs, then its notice carries the outcome Resolve recorded
    notice = handler("notify")(state, FakeContext())
    assert notice["outcome"] == "skipped"
    assert (
        notice["subject"]
        == "[SKIPPED] other/lab:1.0: no binding in the configuration matches this repository"
    )


def test_the_app_start_watch_refuses_an_event_that_is_not_a_logs_subscription(deployment):
    with pytest.raises(EventInvalid, match="not a CloudWatch Logs subscription event"):
        handler("app_start_watch")({"awslogs": {"data": "bm90IGd6aXA="}}, FakeContext())


def test_the_app_start_watch_ignores_lines_from_a_stream_that_is_not_an_apps(deployment):
    # Given a subscription event as CloudWatch Logs sends it (gzip, base64), from another stream
    data = {
        "messageType": "DATA_MESSAGE",
        "owner": "123456789012",
        "logGroup": "/aws/sagemaker/studio",
        "logStream": "some-other-stream",
        "subscriptionFilters": ["f"],
        "logEvents": [{"id": "1", "timestamp": 1, "message": "exec format error"}],
    }
    event = {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(data).encode())).decode()}}
    # When the handler receives it, then it says why nothing was sent
    result = handler("app_start_watch")(event, FakeContext())
    assert (result["notified"], result["reason"]) == (False, "not an app's log stream")
    assert [m["signature"] for m in result["matches"]] == ["exec-format-error"]
