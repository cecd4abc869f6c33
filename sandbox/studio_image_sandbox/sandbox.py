"""A sandbox: the pipeline deployed from `template.yaml` into the local AWS, beside a Studio domain
(user profile `alice`, space `shared`) to attach images to.

`studio-image sandbox up` keeps one running and records where it is in `sandbox.json`, in the
sandbox directory; the other commands connect to it, or run a private one for themselves.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from pydantic import BaseModel

import moto_studio
from studio_image.errors import StudioImageError
from studio_image.oci import Platform
from studio_image.pipeline import services
from studio_image.pipeline.models import Notice
from studio_image.pipeline.settings import load_settings

from .ecrpush import PushedImage, push_image
from .local import REGION, client_environment, environment, local_aws
from .stack import ACCOUNT, Stack, deploy
from .studio import StudioDomain, create_domain

STATE_FILE = "sandbox.json"
INBOX_FILE = "notifications.jsonl"

# One binding per profile, attached wherever the profile can be, with a canary start where Studio
# runs the image; repository names must start with the template's RepositoryPrefix. The new
# Studio's JupyterLab and Code Editor lead: Studio Classic takes no new domains.
DEFAULT_CONFIGURATION: dict[str, Any] = {
    "repositories": [
        {
            "match": "studio/jupyterlab*",
            "profile": "jupyterlab",
            "attach": {"default_space_settings": True, "user_profiles": ["alice"]},
            "canary": {"space": "canary-jupyterlab", "budget_seconds": 120},
        },
        {
            "match": "studio/code-editor*",
            "profile": "code-editor",
            "attach": {"user_profiles": ["alice"]},
            "canary": {"space": "canary-code-editor", "budget_seconds": 120},
        },
        {"match": "studio/gp-*", "profile": "gateway-provisioners"},
        {
            "match": "studio/rstudio*",
            "profile": "rstudio",
            "attach": {"user_profiles": ["alice"]},
            "canary": {"user_profile": "alice", "budget_seconds": 120},
        },
        {  # gated on ECR's scan (the sandbox's images choose their scan result by a label)
            "match": "studio/cve-*",
            "profile": "kernel-gateway",
            "policy": {"vulnerabilities": {"fail_on": "CRITICAL", "require_scan": True, "wait_seconds": 30}},
        },
        {
            "match": "studio/*",
            "profile": "kernel-gateway",
            "attach": {"spaces": ["shared"], "user_profiles": ["alice"]},
            "canary": {"user_profile": "alice", "budget_seconds": 120, "on_failure": "rollback"},
        },
    ]
}
# No X-Ray daemon and no CloudWatch metrics offline.
FUNCTION_ENVIRONMENT = {"POWERTOOLS_TRACE_DISABLED": "true", "POWERTOOLS_METRICS_DISABLED": "true"}


class SandboxError(StudioImageError):
    """A sandbox command cannot do what was asked; the message says why."""


@dataclasses.dataclass(frozen=True)
class Options:
    sagemaker_seconds: float = 1.0  # how long SageMaker's asynchronous work (versions, domains, apps) takes
    version_poll_seconds: int = 1  # the template's VersionPollSeconds
    configuration: dict[str, Any] = dataclasses.field(default_factory=lambda: DEFAULT_CONFIGURATION)


def sandbox_dir() -> Path:
    configured = os.environ.get("STUDIO_IMAGE_SANDBOX_DIR")
    if configured:
        return Path(configured)
    state_home = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(state_home) / "studio-image" / "sandbox"


class RunResult(BaseModel):
    """One execution, as `sandbox push --format json` prints it."""

    execution_arn: str
    image: str  # repository:tag (or @digest) from the event
    started: datetime
    status: str  # the execution's: RUNNING, SUCCEEDED, FAILED, ...
    verdict: str | None  # pass or fail; None when the image was never checked
    outcome: str | None  # passed, refused, failed, skipped or unchanged
    image_version_arn: str | None
    attached: bool
    notification: str | None  # the SNS subject
    message_id: str | None  # of the SNS message
    report: str | None
    seconds: float | None  # from start to end


class Notification(BaseModel):
    """What SNS delivered to the sandbox's subscribed queue."""

    received: str
    message_id: str
    subject: str
    attributes: dict[str, str]
    document: dict[str, Any]  # the JSON message machine subscribers get; `text` is what email gets


def ecr_push_event(pushed: PushedImage, region: str = REGION) -> dict[str, Any]:
    """The EventBridge event ECR emits for a successful push."""
    detail: dict[str, Any] = {
        "result": "SUCCESS",
        "repository-name": pushed.repository,
        "image-digest": pushed.digest,
        "action-type": "PUSH",
        "manifest-media-type": pushed.media_type,
        "artifact-media-type": "application/vnd.oci.image.config.v1+json",
    }
    if pushed.tag:
        detail["image-tag"] = pushed.tag
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "ECR Image Action",
        "source": "aws.ecr",
        "account": ACCOUNT,
        "time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": region,
        "resources": [],
        "detail": detail,
    }


def _notice(history: list[dict[str, Any]]) -> Notice | None:
    for event in reversed(history):
        exited = event.get("stateExitedEventDetails")
        if event["type"] == "TaskStateExited" and exited and exited["name"] == "Notify":
            return Notice.model_validate_json(exited["output"])
    return None


class Sandbox:
    def __init__(
        self, endpoint: str, stack: Stack, domain: StudioDomain, directory: Path, *, private: bool = False
    ) -> None:
        self.endpoint = endpoint
        self.stack = stack
        self.domain = domain
        self.directory = directory
        self.private = private  # lasts as long as one command
        self._clients: dict[str, Any] = {}

    def client(self, service: str) -> Any:
        """One client per service (the display polls several times a second)."""
        if service not in self._clients:
            make: Any = boto3.client  # overloaded by service name; this one takes any
            self._clients[service] = make(service, region_name=self.stack.region, endpoint_url=self.endpoint)
        return self._clients[service]

    # Pushing and running

    def push(
        self, reference: str, repository: str, tag: str | None, platform: Platform | None = None
    ) -> PushedImage:
        return push_image(self.client("ecr"), reference, repository, tag, platform)

    def deliver(self, pushed: PushedImage) -> str:
        """Send ECR's push event through the template's rule; return the execution it started."""
        arn = self.stack.deliver(ecr_push_event(pushed, self.stack.region), self.client("stepfunctions"))
        if arn is None:
            matchers = self.stack.event_pattern.get("detail", {}).get("repository-name", [])
            prefixes = [f"'{m['prefix']}'" for m in matchers if isinstance(m, dict) and "prefix" in m]
            takes = f"repositories starting with {' or '.join(prefixes)}" if prefixes else "other pushes"
            raise SandboxError(
                f"the pipeline's rule does not match a push to {pushed.repository}: it takes {takes}"
            )
        return arn

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [event for page in pages for event in page["events"]]

    def wait(self, execution_arn: str, timeout: float = 600) -> None:
        sfn = self.client("stepfunctions")
        deadline = time.monotonic() + timeout
        while sfn.describe_execution(executionArn=execution_arn)["status"] == "RUNNING":
            if time.monotonic() > deadline:
                raise SandboxError(f"{execution_arn} still running after {timeout:.0f} s")
            time.sleep(0.1)

    def result(self, execution_arn: str) -> RunResult:
        described = self.client("stepfunctions").describe_execution(executionArn=execution_arn)
        notice = _notice(self.history(execution_arn))
        stopped = described.get("stopDate")
        detail = json.loads(described.get("input") or "{}").get("detail", {})
        tag, digest = detail.get("image-tag"), detail.get("image-digest")
        image = str(detail.get("repository-name", "?")) + (
            f":{tag}" if tag else f"@{digest}" if digest else ""
        )
        return RunResult(
            execution_arn=execution_arn,
            image=image,
            started=described["startDate"],
            status=described["status"],
            verdict=notice.verdict.value if notice and notice.verdict else None,
            outcome=notice.outcome.value if notice else None,
            image_version_arn=notice.image_version_arn if notice else None,
            attached=bool(notice and notice.attached),
            notification=notice.subject if notice else None,
            message_id=notice.message_id if notice else None,
            report=notice.report_uri if notice else None,
            seconds=(stopped - described["startDate"]).total_seconds() if stopped else None,
        )

    def executions(self) -> list[RunResult]:
        """The state machine's executions, newest first."""
        pages = (
            self.client("stepfunctions")
            .get_paginator("list_executions")
            .paginate(stateMachineArn=self.stack.state_machine_arn)
        )
        found = [self.result(e["executionArn"]) for page in pages for e in page["executions"]]
        return sorted(found, key=lambda run: run.started, reverse=True)

    def notifications(self) -> list[Notification]:
        """Everything SNS has delivered so far. Messages are moved from the subscribed queue into
        the sandbox directory's inbox, so every command sees all of them."""
        sqs = self.client("sqs")
        inbox = self.directory / INBOX_FILE
        with inbox.open("a") as journal:
            while batch := sqs.receive_message(QueueUrl=self.stack.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                for message in batch:
                    envelope = json.loads(message["Body"])
                    received = Notification(
                        received=envelope.get("Timestamp") or datetime.now(UTC).isoformat(),
                        message_id=envelope["MessageId"],
                        subject=envelope.get("Subject") or "",
                        attributes={k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()},
                        document=json.loads(envelope["Message"]),
                    )
                    journal.write(received.model_dump_json() + "\n")
                    sqs.delete_message(QueueUrl=self.stack.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [Notification.model_validate_json(line) for line in inbox.read_text().splitlines() if line]

    def notification(self, message_id: str) -> Notification | None:
        return next((n for n in self.notifications() if n.message_id == message_id), None)

    # Where a running sandbox is recorded

    def save(self) -> None:
        record = {
            "endpoint": self.endpoint,
            "pid": os.getpid(),
            "stack": dataclasses.asdict(self.stack),
            "domain": dataclasses.asdict(self.domain),
        }
        (self.directory / STATE_FILE).write_text(json.dumps(record, indent=2))

    @classmethod
    def load(cls, directory: Path) -> Sandbox | None:
        """The sandbox `sandbox up` runs, if one answers."""
        try:
            record = json.loads((directory / STATE_FILE).read_text())
            urllib.request.urlopen(record["endpoint"] + "/moto-api/", timeout=2).close()
        except (OSError, ValueError, KeyError):
            return None
        domain = record["domain"]
        domain.update(user_profiles=tuple(domain["user_profiles"]), spaces=tuple(domain["spaces"]))
        return cls(record["endpoint"], Stack(**record["stack"]), StudioDomain(**domain), directory)


def _forget_clients() -> None:
    """The handlers run in this process and cache their clients and settings, as a warm Lambda
    does; a new sandbox (in the same process) is a cold start."""
    services.services.cache_clear()
    load_settings.cache_clear()


@contextlib.contextmanager
def running(options: Options, directory: Path, port: int = 0, *, private: bool = False) -> Iterator[Sandbox]:
    """Start the local AWS, deploy the pipeline into it, and create the Studio domain."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / INBOX_FILE).unlink(missing_ok=True)
    with local_aws(port) as endpoint:
        moto_studio.settings.image_version_seconds = options.sagemaker_seconds
        moto_studio.settings.domain_update_seconds = options.sagemaker_seconds
        moto_studio.settings.app_start_seconds = options.sagemaker_seconds
        _forget_clients()
        try:
            domain = create_domain(boto3.client("iam"), boto3.client("sagemaker"))
            stack = deploy(
                {
                    "DomainId": domain.domain_id,
                    "ImageRoleArn": domain.role_arn,
                    "Configuration": json.dumps(options.configuration),
                    "VersionPollSeconds": str(options.version_poll_seconds),
                },
                environment=FUNCTION_ENVIRONMENT,
            )
            yield Sandbox(endpoint, stack, domain, directory, private=private)
        finally:
            moto_studio.settings.reset()
            _forget_clients()


@contextlib.contextmanager
def connect(directory: Path, options: Options | None = None) -> Iterator[Sandbox]:
    """The running sandbox in `directory`; else a private one that lasts as long as the block."""
    found = Sandbox.load(directory)
    if found is not None:
        with environment(client_environment(found.endpoint, found.stack.region)):
            yield found
        return
    sys.stderr.write("no sandbox is running (`studio-image sandbox up` starts one): using a private one\n")
    with (
        tempfile.TemporaryDirectory(prefix="studio-image-sandbox-") as private,
        running(options or Options(), Path(private), private=True) as sandbox,
    ):
        yield sandbox
