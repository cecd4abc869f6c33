"""A sandbox: the pipeline deployed from `template.yaml` into the local AWS, beside a Studio domain
(user profile `alice`, space `shared`) to attach images to.

`studio-image sandbox up` keeps one running and records where it is in `sandbox.json`, in the
sandbox directory; the other commands connect to it, or run a private one for themselves.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import sys
import time
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
from pydantic import BaseModel

import moto_studio
from moto_studio import events as event_patterns
from moto_studio.ecr import on_image_action
from moto_studio.registry import Registry, login_password
from studio_image.errors import StudioImageError
from studio_image.pipeline.models import Notice

from .ecrpush import PushedImage, push_image
from .local import CREDENTIALS, client_environment, environment, local_aws
from .stack import Stack, deploy
from .studio import StudioDomain, create_domain

STATE_FILE = "sandbox.json"
INBOX_FILE = "notifications.jsonl"
EXECUTIONS_FILE = "executions.json"  # what the last sandbox ran, written as it stops
AUTH_FILE = "registry-auth.json"  # the registry's login, in containers-auth.json's format

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
            # enabled: a KernelGateway (Studio Classic) canary is off unless asked for
            "canary": {
                "enabled": True,
                "user_profile": "alice",
                "budget_seconds": 120,
                "on_failure": "rollback",
            },
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


def _notice(history: list[dict[str, Any]]) -> Notice | None:
    for event in reversed(history):
        exited = event.get("stateExitedEventDetails")
        if event["type"] == "TaskStateExited" and exited and exited["name"] == "Notify":
            return Notice.model_validate_json(exited["output"])
    return None


class Sandbox:
    def __init__(
        self,
        endpoint: str,
        registry: str,
        stack: Stack,
        domain: StudioDomain,
        directory: Path,
        *,
        private: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.registry = registry  # host:port of its ECR's registry API
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

    def push(self, reference: str, repository: str, tag: str | None) -> PushedImage:
        return push_image(self.client("ecr"), reference, repository, tag)

    def execution_for(
        self, repository: str, digest: str, tag: str | None, action: str = "PUSH", timeout: float = 30
    ) -> str:
        """The execution ECR's event for this push (or delete) started through the template's rule."""
        probe = {
            "source": "aws.ecr",
            "detail-type": "ECR Image Action",
            "detail": {"result": "SUCCESS", "action-type": action, "repository-name": repository},
        }
        if not event_patterns.matches(self.stack.event_pattern, probe):
            matchers = self.stack.event_pattern.get("detail", {}).get("repository-name", [])
            prefixes = [f"'{m['prefix']}'" for m in matchers if isinstance(m, dict) and "prefix" in m]
            takes = f"repositories starting with {' or '.join(prefixes)}" if prefixes else "other pushes"
            raise SandboxError(f"the pipeline's rule does not match a push to {repository}: it takes {takes}")
        wanted = {
            "repository-name": repository,
            "image-digest": digest,
            "image-tag": tag or "",
            "action-type": action,
        }
        sfn = self.client("stepfunctions")
        seen: set[str] = set()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pages = sfn.get_paginator("list_executions").paginate(
                stateMachineArn=self.stack.state_machine_arn
            )
            for execution in (e for page in pages for e in page["executions"]):
                arn = execution["executionArn"]
                if arn in seen:
                    continue
                seen.add(arn)
                detail = json.loads(sfn.describe_execution(executionArn=arn).get("input") or "{}")["detail"]
                if all(detail.get(key) == value for key, value in wanted.items()):
                    return str(arn)
            time.sleep(0.1)
        raise SandboxError(f"no execution started for {repository}@{digest} in {timeout:.0f} s")

    def history(self, execution_arn: str) -> list[dict[str, Any]]:
        sfn = self.client("stepfunctions")
        pages = sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn)
        return [event for page in pages for event in page["events"]]

    def cold_start(self, function_arn: str, start: datetime, end: datetime) -> bool:
        """Whether the function's log has a cold start's REPORT line (with `Init Duration`) between
        `start` and `end`: an invocation in that span began a new execution environment."""
        group = f"/aws/lambda/{function_arn.split(':function:')[-1].split(':')[0]}"
        found = self.client("logs").filter_log_events(
            logGroupName=group,
            startTime=int(start.timestamp() * 1000) - 1,
            endTime=int(end.timestamp() * 1000) + 1,
        )
        return any("Init Duration" in event["message"] for event in found["events"])

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
        """Everything this sandbox's topic has delivered so far. Messages are moved from the
        subscribed queue into the sandbox directory's inbox, so every command sees all of them."""
        sqs = self.client("sqs")
        inbox = self.directory / INBOX_FILE
        with inbox.open("a") as journal:
            while batch := sqs.receive_message(QueueUrl=self.stack.queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            ):
                for message in batch:
                    envelope = json.loads(message["Body"])
                    if self.stack.sent(envelope, self.client("stepfunctions")):
                        received = Notification(
                            received=envelope.get("Timestamp") or datetime.now(UTC).isoformat(),
                            message_id=envelope["MessageId"],
                            subject=envelope.get("Subject") or "",
                            attributes={
                                k: v["Value"] for k, v in envelope.get("MessageAttributes", {}).items()
                            },
                            document=json.loads(envelope["Message"]),
                        )
                        journal.write(received.model_dump_json() + "\n")
                    sqs.delete_message(QueueUrl=self.stack.queue_url, ReceiptHandle=message["ReceiptHandle"])
        return [Notification.model_validate_json(line) for line in inbox.read_text().splitlines() if line]

    def notification(self, message_id: str) -> Notification | None:
        return next((n for n in self.notifications() if n.message_id == message_id), None)

    # Where a running sandbox is recorded

    def record(self) -> None:
        """Keep what this sandbox ran and delivered in its directory, for when it is gone."""
        self.notifications()
        runs = [run.model_dump(mode="json") for run in self.executions()]
        (self.directory / EXECUTIONS_FILE).write_text(json.dumps(runs, indent=2))

    def environment(self) -> dict[str, str]:
        """What AWS clients (the AWS CLI, boto3) and registry clients (skopeo, buildah, podman)
        need in their environment to use this sandbox."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_DEFAULT_REGION": self.stack.region,
            "AWS_ACCESS_KEY_ID": CREDENTIALS["AWS_ACCESS_KEY_ID"],
            "AWS_SECRET_ACCESS_KEY": CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
            "REGISTRY_AUTH_FILE": str(self.directory / AUTH_FILE),
            "STUDIO_IMAGE_REGISTRY": self.registry,
        }

    def save(self) -> None:
        auth = base64.b64encode(f"AWS:{login_password()}".encode()).decode()
        (self.directory / AUTH_FILE).write_text(json.dumps({"auths": {self.registry: {"auth": auth}}}))
        record = {
            "endpoint": self.endpoint,
            "registry": self.registry,
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
        stack = Stack(**record["stack"])
        return cls(record["endpoint"], record["registry"], stack, StudioDomain(**domain), directory)


def recorded_executions(directory: Path) -> list[RunResult]:
    """What the last sandbox in `directory` ran (none if none has stopped there)."""
    path = directory / EXECUTIONS_FILE
    runs = json.loads(path.read_text()) if path.exists() else []
    return [RunResult.model_validate(run) for run in runs]


def recorded_notifications(directory: Path) -> list[Notification]:
    path = directory / INBOX_FILE
    lines = path.read_text().splitlines() if path.exists() else []
    return [Notification.model_validate_json(line) for line in lines if line]


@contextlib.contextmanager
def running(options: Options, directory: Path, port: int = 0, *, private: bool = False) -> Iterator[Sandbox]:
    """Start the local AWS, deploy the pipeline into it, and create the Studio domain."""
    directory.mkdir(parents=True, exist_ok=True)
    for name in (INBOX_FILE, EXECUTIONS_FILE):
        (directory / name).unlink(missing_ok=True)
    with local_aws(port) as endpoint:
        moto_studio.settings.image_seconds = options.sagemaker_seconds
        moto_studio.settings.image_version_seconds = options.sagemaker_seconds
        moto_studio.settings.domain_update_seconds = options.sagemaker_seconds
        moto_studio.settings.app_start_seconds = options.sagemaker_seconds
        moto_studio.settings.app_delete_seconds = options.sagemaker_seconds
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
            registry = Registry(stack.region)
            sfn = boto3.client("stepfunctions")

            def deliver(event: dict[str, Any]) -> None:  # EventBridge's part, through the template's rule
                stack.deliver(event, sfn)

            stop_delivering = on_image_action(deliver)
            sandbox = Sandbox(endpoint, registry.host, stack, domain, directory, private=private)
            try:
                yield sandbox
            finally:
                stop_delivering()
                registry.stop()
                try:
                    moto_studio.drain()  # what is still running is recorded ABORTED
                except moto_studio.Undrained as error:
                    raise SandboxError(str(error)) from error
                finally:
                    sandbox.record()
        finally:
            moto_studio.settings.reset()


@contextlib.contextmanager
def connect(directory: Path, options: Options | None = None) -> Iterator[Sandbox]:
    """The running sandbox in `directory`; else a private one that lasts as long as the block."""
    found = Sandbox.load(directory)
    if found is not None:
        with environment(client_environment(found.endpoint, found.stack.region)):
            yield found
        return
    sys.stderr.write("no sandbox is running (`studio-image sandbox up` starts one): using a private one\n")
    with running(options or Options(), directory, private=True) as sandbox:
        yield sandbox
