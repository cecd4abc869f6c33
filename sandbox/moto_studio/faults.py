"""Faults injected into the sandbox's AWS, per service, action and call count.

A `Fault` answers the matching calls of one action of one service with one kind of failure, after
letting `skip` of them through, `times` times. The kinds:

- AWS error answers ("throttling", "resource_in_use", "internal_failure", "unavailable"): moto's
  server answers the HTTP request the way the service does, in the service's protocol, so botocore
  parses them as it parses AWS's (and retries them as it would).
- "create_failed": SageMaker's CreateImageVersion (or CreateImage) succeeds, and the version (or
  image) ends CREATE_FAILED.
- "update_failed": SageMaker's UpdateDomain, UpdateUserProfile or UpdateSpace succeeds, and the
  domain, profile or space ends Update_Failed.
- Lambda ("timeout", "killed", "killed_after"; service "lambda", action "Invoke", `function` a
  part of the function's name): the invocation ends as Lambda ends one that ran past its Timeout,
  or whose runtime was killed in the middle (its worker process is really killed); "killed_after"
  kills it once the handler has run, so its calls went through but its answer is lost.

A server error fails a call once it is answered on every attempt the client makes:
`botocore_attempts(service)`. From tests:
`faults.inject(Fault("sagemaker", "UpdateDomain", "throttling", times=2))`. In the sandbox:
MOTO_STUDIO_FAULTS="sagemaker:UpdateDomain:throttling:2,sns:Publish:internal_failure".
Every fault that fired is in `faults.fired`.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from botocore.loaders import Loader
from botocore.session import get_session
from moto.core.request import Request
from moto.core.responses import boto3_service_name
from moto.core.routing import get_service_router
from werkzeug.wrappers import Response


@dataclass(frozen=True)
class Answer:
    """An error as the service returns it: its code, HTTP status and message."""

    code: str
    status: int
    message: str


# The common errors every AWS query and JSON API can return, with their HTTP status codes:
# https://docs.aws.amazon.com/sagemaker/latest/APIReference/CommonErrors.html (the same list for
# ECR, DynamoDB, SSM, CloudWatch Logs and SNS), and SageMaker's own ResourceInUse (botocore's
# sagemaker service-2.json: an error shape with no httpStatusCode, so 400 as for every client error).
ANSWERS = {
    "throttling": Answer("ThrottlingException", 400, "Rate exceeded"),
    "resource_in_use": Answer("ResourceInUse", 400, "Resource is being updated; try again later"),
    "internal_failure": Answer(
        "InternalFailure", 500, "The request processing has failed because of an unknown error"
    ),
    "unavailable": Answer("ServiceUnavailable", 503, "The request has failed due to a temporary failure"),
}
# Where a service names them otherwise. S3: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html
# (SlowDown 503, InternalError 500, ServiceUnavailable 503). SNS, botocore's sns service-2.json:
# ThrottledException is code "Throttled", httpStatusCode 429; InternalErrorException is
# "InternalError", 500.
SERVICE_ANSWERS = {
    ("s3", "throttling"): Answer("SlowDown", 503, "Please reduce your request rate."),
    ("s3", "internal_failure"): Answer("InternalError", 500, "We encountered an internal error."),
    ("s3", "unavailable"): Answer("ServiceUnavailable", 503, "Service is unable to handle request."),
    ("sns", "throttling"): Answer("Throttled", 429, "Rate exceeded"),
    ("sns", "internal_failure"): Answer("InternalError", 500, "Internal error"),
}
LAMBDA_KINDS = ("timeout", "killed", "killed_after")
# The calls SageMaker accepts and then fails to carry out, leaving the resource's status
# CREATE_FAILED or Update_Failed (botocore's ImageVersionStatus, ImageStatus, DomainStatus,
# UserProfileStatus and SpaceStatus), and the sagemaker actions each kind can follow.
OUTCOME_KINDS = {
    "create_failed": ("CreateImageVersion", "CreateImage"),
    "update_failed": ("UpdateDomain", "UpdateUserProfile", "UpdateSpace"),
}
KINDS = (*ANSWERS, *LAMBDA_KINDS, *OUTCOME_KINDS)
CREATE_FAILED_REASON = "Injected fault: the image version could not be created"
IMAGE_CREATE_FAILED_REASON = "Injected fault: the image could not be created"
UPDATE_FAILED_REASON = "Injected fault: the update could not be applied"


def botocore_attempts(service: str) -> int:
    """How many times a default client (legacy retry mode, Lambda's) in this environment tries a
    call that keeps failing with a server error: AWS_MAX_ATTEMPTS when set (the tests set it, and
    the Lambda workers inherit it), else botocore's data/_retry.json, 5 unless the service says
    otherwise (DynamoDB: 10)."""
    configured = get_session().get_config_variable("max_attempts")
    if configured is not None:
        return int(configured)
    retry = Loader().load_data("_retry")["retry"]
    found = retry.get(service, {}).get("__default__", {}).get("max_attempts")
    return int(found or retry["__default__"]["max_attempts"])


class FaultInvalid(ValueError):
    """A fault that names an unknown kind, or one its service cannot have."""


@dataclass
class Fault:
    service: str  # botocore's name: sagemaker, ecr, s3, sns, dynamodb, ssm, logs, lambda
    action: str  # the API action: UpdateDomain, PutObject, Publish, Invoke, ...
    kind: str
    times: int = 1
    skip: int = 0  # matching calls let through first
    function: str = ""  # Lambda faults: a part of the function's name

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise FaultInvalid(f"unknown fault kind {self.kind!r}; one of {', '.join(KINDS)}")
        if (self.kind in LAMBDA_KINDS) != (self.service == "lambda" and self.action == "Invoke"):
            raise FaultInvalid(f"{self.kind} is a Lambda fault: service lambda, action Invoke")
        actions = OUTCOME_KINDS.get(self.kind)
        if actions and (self.service != "sagemaker" or self.action not in actions):
            raise FaultInvalid(f"{self.kind} is a fault of sagemaker {' or '.join(actions)}")

    @classmethod
    def parse(cls, text: str) -> Fault:
        """SERVICE:ACTION:KIND[:TIMES[:SKIP[:FUNCTION]]] (FUNCTION: a Lambda fault's function)."""
        parts = text.strip().split(":")
        if len(parts) < 3:
            raise FaultInvalid(f"{text!r}: expected SERVICE:ACTION:KIND[:TIMES[:SKIP[:FUNCTION]]]")
        try:
            numbers = parts[3:5]
            times = int(numbers[0]) if numbers else 1
            skip = int(numbers[1]) if len(numbers) > 1 else 0
        except ValueError as err:
            raise FaultInvalid(f"{text!r}: TIMES and SKIP are numbers") from err
        return cls(parts[0], parts[1], parts[2], times, skip, ":".join(parts[5:]))

    def answer(self) -> Answer:
        return SERVICE_ANSWERS.get((self.service, self.kind)) or ANSWERS[self.kind]


@dataclass(frozen=True)
class Fired:
    service: str
    action: str
    kind: str


class Faults:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._armed: list[Fault] = []
        self.fired: list[Fired] = []

    def inject(self, *faults: Fault) -> None:
        with self._lock:
            self._armed.extend(faults)

    def take(self, service: str, action: str, kinds: Iterable[str], function: str = "") -> Fault | None:
        """The fault this call answers with, if one is armed for it (counting the call)."""
        kinds = tuple(kinds)
        with self._lock:
            for fault in self._armed:
                if (fault.service, fault.action) != (service, action) or fault.kind not in kinds:
                    continue
                if fault.function not in function:
                    continue
                if fault.skip:
                    fault.skip -= 1
                    return None
                fault.times -= 1
                if fault.times <= 0:
                    self._armed.remove(fault)
                self.fired.append(Fired(service, action, fault.kind))
                return fault
        return None

    @property
    def armed(self) -> bool:
        return bool(self._armed)

    def reset(self) -> None:
        """Back to the faults MOTO_STUDIO_FAULTS lists, none fired."""
        with self._lock:
            self._armed.clear()
            self.fired.clear()
        self.load_environment()

    def load_environment(self) -> None:
        """The faults MOTO_STUDIO_FAULTS lists, comma-separated."""
        listed = os.environ.get("MOTO_STUDIO_FAULTS", "")
        self.inject(*(Fault.parse(text) for text in listed.split(",") if text.strip()))


faults = Faults()


def _protocol(service: str) -> str:
    return str(get_session().get_service_model(service).metadata["protocol"])


def error_response(service: str, answer: Answer) -> Response:
    """`answer` in the service's protocol, as botocore's parsers read AWS's errors
    (botocore/parsers.py: JSON `__type`, REST-JSON's X-Amzn-ErrorType header, the query
    protocol's ErrorResponse, REST-XML's Error)."""
    request_id = str(uuid.uuid4())
    headers = {"x-amzn-RequestId": request_id}
    protocol = _protocol(service)
    if protocol == "json":
        body = json.dumps({"__type": answer.code, "message": answer.message})
        return Response(body, answer.status, headers, content_type="application/x-amz-json-1.1")
    if protocol == "rest-json":
        headers["X-Amzn-ErrorType"] = answer.code
        body = json.dumps({"message": answer.message})
        return Response(body, answer.status, headers, content_type="application/json")
    error = f"<Code>{escape(answer.code)}</Code><Message>{escape(answer.message)}</Message>"
    if protocol == "query":
        kind = "Receiver" if answer.status >= 500 else "Sender"
        body = (
            f"<ErrorResponse><Error><Type>{kind}</Type>{error}</Error>"
            f"<RequestId>{request_id}</RequestId></ErrorResponse>"
        )
    else:  # rest-xml
        body = f"<Error>{error}<RequestId>{request_id}</RequestId></Error>"
    return Response(body, answer.status, headers, content_type="text/xml")


def _action(service: str, environ: dict[str, Any], form: str | None) -> str | None:
    """The API action a request calls, by the service's protocol: the X-Amz-Target header (JSON),
    the Action parameter (query), or the HTTP binding of the path and method (REST)."""
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return str(target).rpartition(".")[2]
    if form:
        actions = parse_qs(form).get("Action")
        return actions[0] if actions else None
    try:
        operation, _ = get_service_router(service).match(Request(environ))
    except Exception:  # no operation of the service matches: the request is not ours to fault
        return None
    return str(operation.name)


Dispatch = Callable[[Any, dict[str, Any], Any], Any]


def answering_faults(dispatch: Dispatch) -> Dispatch:
    """Wrap moto's server's dispatcher so that an armed fault answers its calls."""

    def __call__(self: Any, environ: dict[str, Any], start_response: Any) -> Any:
        if faults.armed:
            service = getattr(self.get_application(environ), "service", None)
            if service:
                service = boto3_service_name.get(service, service)  # moto's "awslambda" is "lambda"
                action = _action(service, environ, self._get_body(environ))
                fault = faults.take(service, action or "", ANSWERS)
                if fault is not None:
                    return error_response(service, fault.answer())(environ, start_response)
        return dispatch(self, environ, start_response)

    return __call__
