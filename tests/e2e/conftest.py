"""The deployed pipeline on moto: `template.yaml` deployed by the sandbox, the real ASL executing,
the real handlers running in their execution environments (worker processes that reach moto's
server as Lambda reaches AWS), images pushed through ECR's layer API."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest

from studio_image_sandbox.ecrpush import push_image
from studio_image_sandbox.local import local_aws
from studio_image_sandbox.ocibuild import ImageSpec, build_image
from studio_image_sandbox.sandbox import FUNCTION_ENVIRONMENT
from studio_image_sandbox.stack import ROOT, Stack, deploy
from studio_image_sandbox.studio import create_domain

from .iam import denied, recording

REGION = "us-east-1"
STATE_LIMIT = 256 * 1024  # what Step Functions passes between states
EVENTS = ROOT / "events"


def load_event(name: str, **detail: Any) -> dict[str, Any]:
    event = json.loads((EVENTS / f"{name}.json").read_text())
    event["detail"].update(detail)
    return event


@dataclass
class Pipeline:
    stack: Stack
    domain_id: str
    workdir: Path
    sagemaker: Any = field(default_factory=lambda: boto3.client("sagemaker", region_name=REGION))
    ecr: Any = field(default_factory=lambda: boto3.client("ecr", region_name=REGION))
    logs: Any = field(default_factory=lambda: boto3.client("logs", region_name=REGION))
    awslambda: Any = field(default_factory=lambda: boto3.client("lambda", region_name=REGION))

    def push(self, spec: ImageSpec, repository: str, tag: str = "1.0") -> str:
        """Push an image built from `spec` and return its digest (no event is sent)."""
        layout = self.workdir / f"{repository.replace('/', '_')}-{tag}-{time.monotonic_ns()}"
        return push_image(self.ecr, build_image(layout, spec, tag), repository, tag).digest

    def start(self, repository: str, digest: str, tag: str | None = "1.0", **detail: Any) -> str:
        event = load_event("push-tag", **{"repository-name": repository, "image-digest": digest}, **detail)
        if tag is None:
            del event["detail"]["image-tag"]
        else:
            event["detail"]["image-tag"] = tag
        arn = self.stack.deliver(event)
        assert arn is not None, "the template's event pattern did not match the push event"
        return arn

    def finish(self, execution_arn: str, timeout: float = 120) -> dict[str, Any]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = sfn.describe_execution(executionArn=execution_arn)
            if found["status"] != "RUNNING":
                return dict(found)
            time.sleep(0.1)
        raise AssertionError(f"{execution_arn} still running after {timeout} s")

    def run(self, spec: ImageSpec, repository: str, tag: str = "1.0") -> dict[str, Any]:
        return self.finish(self.start(repository, self.push(spec, repository, tag), tag))

    def executions(self) -> list[str]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        found = sfn.list_executions(stateMachineArn=self.stack.state_machine_arn, maxResults=1000)
        return [e["executionArn"] for e in found["executions"]]

    def largest_states(self) -> list[tuple[int, str]]:
        """(bytes, state) of every state input and output in every execution, largest first."""
        sizes = []
        for arn in self.executions():
            for event in self.history(arn):
                for key, member in (
                    ("stateEnteredEventDetails", "input"),
                    ("stateExitedEventDetails", "output"),
                ):
                    details = event.get(key)
                    if details and details.get(member):
                        sizes.append((len(details[member].encode()), f"{details['name']} {member}"))
        return sorted(sizes, reverse=True)

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = boto3.client("stepfunctions", region_name=REGION)
        return list(sfn.get_execution_history(executionArn=execution_arn, maxResults=1000)["events"])

    def notifications(self) -> list[dict[str, Any]]:
        """Everything this stack's topic delivered to the subscribed queue so far, as SQS subscribers
        get it (what another stack's runs sent is not counted, should any reach the queue)."""
        sqs = boto3.client("sqs", region_name=REGION)
        found = []
        while True:
            batch = sqs.receive_message(QueueUrl=self.stack.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            if not batch:
                return [envelope for envelope in found if self.stack.sent(envelope)]
            for message in batch:
                found.append(json.loads(message["Body"]))
                sqs.delete_message(QueueUrl=self.stack.queue_url, ReceiptHandle=message["ReceiptHandle"])

    def custom_images(
        self, settings: dict[str, Any], app: str = "KernelGatewayAppSettings"
    ) -> list[dict[str, Any]]:
        return list((settings.get(app) or {}).get("CustomImages") or [])


CONFIGURATION = {
    "repositories": [
        {
            "match": "studio/provisioners-*",
            "profile": "gateway-provisioners",
        },
        {
            "match": "studio/*",
            "profile": "kernel-gateway",
            "attach": {"default_user_settings": True, "spaces": ["shared"], "user_profiles": ["alice"]},
        },
    ]
}


@contextmanager
def deployed(tmp_path: Path, configuration: dict[str, Any]) -> Iterator[Pipeline]:
    """The pipeline deployed on moto with `configuration`. When the test ends, every run's state
    was within Step Functions' limit and every call a function made is one its role allows."""
    with local_aws():
        domain = create_domain(
            boto3.client("iam", region_name=REGION), boto3.client("sagemaker", region_name=REGION)
        )
        stack = deploy(
            {
                "DomainId": domain.domain_id,
                "ImageRoleArn": domain.role_arn,
                "Configuration": json.dumps(configuration),
                "VersionPollSeconds": "1",
            },
            environment=FUNCTION_ENVIRONMENT,
        )
        with recording() as calls:
            pipeline = Pipeline(stack, domain.domain_id, tmp_path)
            yield pipeline
            # Step Functions passes at most 256 KiB between states (and cannot catch going over).
            over = [f"{name}: {size} bytes" for size, name in pipeline.largest_states() if size > STATE_LIMIT]
            assert not over, f"run state over {STATE_LIMIT} bytes: {over}"
        # Every call a function made is one its role, as SAM generates it, allows.
        unauthorized = denied(calls, stack)
        assert not unauthorized, "calls the template's roles do not allow:\n" + "\n".join(unauthorized)


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    with deployed(tmp_path, CONFIGURATION) as pipeline:
        yield pipeline
