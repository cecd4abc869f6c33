"""The one notification each run ends with: its outcome, subject, body and JSON document (put
together as every notification is, by `notification`)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from pydantic import BaseModel

from ..findings import Severity
from ..inert import inert
from ..rules.judging import Verdict
from ..units import plural
from . import notification
from .models import Canary, CanaryPlan, Outcome, Retired
from .signatures import known_failures
from .state import RunRecord


def verdict_of(state: RunRecord) -> Verdict | None:
    """The checks' verdict; for a digest handled before, the earlier run's. None: never checked."""
    if state.evaluation is not None:
        return state.evaluation.verdict
    earlier = state.skip.earlier_outcome if state.skip else None
    if earlier == Outcome.PASSED:
        return Verdict.PASS
    return Verdict.FAIL if earlier == Outcome.REFUSED else None


def image_label(state: RunRecord) -> str:
    if state.pushed is not None:
        return state.pushed.name
    detail = state.event.get("detail")
    name = detail.get("repository-name") if isinstance(detail, dict) else None
    return str(name or "an unreadable event")


def error_text(state: RunRecord) -> tuple[str, str]:
    """The failed state's error name and message. A Lambda error's Cause is its JSON payload."""
    assert state.error is not None
    message = state.error.cause
    try:
        cause = json.loads(message)
        if isinstance(cause, dict):
            message = str(cause.get("errorMessage") or message)
    except json.JSONDecodeError:
        pass
    return state.error.error, message


def subject(state: RunRecord, outcome: Outcome) -> str:
    label = image_label(state)
    registration = state.registration
    if outcome == Outcome.PASSED and registration is not None:
        text = f"{label} -> {registration.image_name} v{registration.version}"
    elif outcome == Outcome.PASSED:
        text = f"{label} passed every check (not a Studio image: nothing registered)"
    elif outcome == Outcome.CANARY_FAILED and state.canary is not None and registration is not None:
        why = ", ".join(m.signature for m in known_failures(state.canary.matches)) or state.canary.status
        after = "; rolled back" if state.canary.rolled_back else "; still attached"
        text = f"{label} v{registration.version}: {why}{after}"
    elif outcome == Outcome.RETIRED and state.retirement is not None:
        retired = state.retirement
        versions = ", ".join(f"v{v}" for v in retired.deleted) or "nothing"
        text = f"{label}: deleted from ECR; {retired.image_name} {versions} detached and deleted"
    elif outcome == Outcome.REFUSED and state.evaluation is not None:
        rules = sorted({f.rule for f in state.evaluation.findings if f.severity == Severity.ERROR})
        text = f"{label}: {plural(state.evaluation.errors, 'error')} ({', '.join(rules)})"
    elif outcome == Outcome.FAILED and state.error is not None:
        text = f"{label}: {state.error.error} in {state.failed_step}"
    elif state.skip is not None and state.skip.outcome == Outcome.UNCHANGED:  # the body names the run
        earlier = state.skip.earlier_outcome
        text = f"{label}: this digest was already {earlier.value if earlier else 'handled'}"
    elif state.skip is not None:
        text = f"{label}: {state.skip.reason}"
    else:
        text = f"{label}: the run stopped before attaching"
    return notification.subject(outcome.value, text)


def _console(region: str, kind: str, value: str) -> str:
    if kind == "execution":
        return f"https://{region}.console.aws.amazon.com/states/home?region={region}#/v2/executions/details/{value}"
    bucket, _, key = value.removeprefix("s3://").partition("/")
    return f"https://{region}.console.aws.amazon.com/s3/object/{bucket}?region={region}&prefix={quote(key)}"


def _canary_text(canary: Canary, plan: CanaryPlan | None) -> list[str]:
    owner = f"{plan.owner_kind} {plan.owner}" if plan else "?"
    status = canary.status + (f": {canary.failure_reason}" if canary.failure_reason else "")
    lines = [f"Canary: {plan.app_type if plan else 'app'} app {canary.app_name} for {owner}: {status}"]
    if plan and plan.app_type == "KernelGateway":
        lines.append(
            "(A KernelGateway canary sees the container start, not a kernel start: "
            "it does not show that kernels start.)"
        )
    for match in canary.matches:
        lines += notification.match_lines(match)
    if canary.rolled_back:
        lines.append("Rolled back (the previous version restored, or the image removed if it was new):")
        lines += [f"- {target}" for target in canary.rolled_back]
    elif canary.failed:
        lines.append("The version stays attached (on_failure: report).")
    if canary.log_uri:
        lines.append(f"The whole start-up log is in S3, in parts: {canary.log_uri} and the files beside it.")
    lines.append(f"The canary app was {'deleted' if canary.deleted else 'NOT deleted: delete it by hand'}.")
    return lines


def _retired_text(retired: Retired, keep: int | None) -> list[str]:
    why = (
        "Its image was deleted from ECR, so the versions built from it were taken out of use:"
        if retired.reason == "deleted"
        else f"Older versions beyond the newest {keep} (keep_versions) were taken out of use:"
    )
    if not retired.versions:
        return [why, "- none to take out."]
    deleted = ", ".join(str(v) for v in retired.deleted) or "none (already gone)"
    lines = [why, f"- {retired.image_name} versions deleted: {deleted}"]
    lines += [f"- detached from {target}" for target in retired.detached_from] or ["- attached nowhere"]
    return lines


def body(state: RunRecord, outcome: Outcome) -> str:
    region = state.pushed.region if state.pushed else str(state.event.get("region") or "us-east-1")
    lines = [subject(state, outcome), ""]
    if state.pushed is not None:
        lines += [
            f"Repository: {state.pushed.repository}",
            f"Tag: {state.pushed.tag or '(pushed by digest)'}",
        ]
        lines += [f"Digest: {state.pushed.digest or '-'}"]
    if state.job is not None:
        lines += [f"Profile: {state.job.binding.profile}", f"Domain: {state.job.domain_id}"]
    if state.skip is not None:
        lines += ["", f"Nothing was done: {state.skip.reason}."]
        if state.skip.image_version_arn:
            lines.append(f"Image version: {state.skip.image_version_arn}")
    if state.registration is not None:
        r = state.registration
        lines += [
            f"SageMaker image: {r.image_name} version {r.version} ({r.status})",
            f"Image version ARN: {r.image_version_arn}",
        ]
        if r.app_image_config_name:
            lines.append(f"AppImageConfig: {r.app_image_config_name}")
    for attached in state.attached.targets if state.attached else []:
        was = "new" if attached.previous_version is None else f"replaced version {attached.previous_version}"
        lines.append(f"Attached to {attached.target} ({was})")
    if state.canary is not None:
        lines += ["", *_canary_text(state.canary, state.job.canary if state.job else None)]
    if state.retirement is not None:
        lines += [
            "",
            *_retired_text(state.retirement, state.job.binding.keep_versions if state.job else None),
        ]
    if state.error is not None:
        name, message = error_text(state)
        lines += ["", f"The pipeline failed in {state.failed_step}: {name}", inert(message)]
        if state.registration is None and outcome == Outcome.FAILED:
            lines.append("Nothing was registered.")
    evaluation = state.evaluation
    if evaluation is not None:
        lines += [
            "",
            f"Checks: {evaluation.verdict.value}, "
            f"{plural(evaluation.errors, 'error')}, {plural(evaluation.warnings, 'warning')}",
        ]
        if outcome == Outcome.REFUSED:
            lines.append("The image was not registered. Fix the errors below and push again.")
        for finding in evaluation.findings:
            lines.append(f"- [{finding.severity.value}] {finding.rule}: {inert(finding.message)}")
            lines.append(f"  Fix: {inert(finding.remediation)}")
        if evaluation.findings_total > len(evaluation.findings):
            lines.append(f"  ... {evaluation.findings_total - len(evaluation.findings)} more in the report")
        lines += [
            "",
            f"Report: {evaluation.report_markdown_uri}",
            f"  {_console(region, 's3', evaluation.report_markdown_uri)}",
            *([f"Report (HTML): {evaluation.report_html_uri}"] if evaluation.report_html_uri else []),
            f"Report (JSON): {evaluation.report_uri}",
            *([f"SBOM (CycloneDX): {evaluation.sbom_uri}"] if evaluation.sbom_uri else []),
        ]
    lines += [
        "",
        f"Execution: {state.execution_arn}",
        f"  {_console(region, 'execution', state.execution_arn)}",
    ]
    return "\n".join(lines)


def _report(state: RunRecord) -> str:
    return state.evaluation.report_markdown_uri if state.evaluation else "-"


def document(state: RunRecord, outcome: Outcome, text: str) -> dict[str, Any]:
    """The machine-readable message: the outcome, the `text` a person reads (for subscribers that
    pass it on to people), and everything the run learned."""
    verdict = verdict_of(state)
    doc: dict[str, Any] = {
        "outcome": outcome.value,
        "verdict": verdict.value if verdict else None,
        "subject": subject(state, outcome),
        "text": text,
        "execution_arn": state.execution_arn,
    }
    parts: dict[str, BaseModel | None] = {
        "pushed": state.pushed,
        "skip": state.skip,
        "job": state.job,
        "evaluation": state.evaluation,
        "registration": state.registration,
        "canary": state.canary,
        "retired": state.retirement,
        "error": state.error,
    }
    if state.failed_step:
        doc["failed_step"] = state.failed_step
    doc.update({key: _json(part) for key, part in parts.items() if part is not None})
    if state.attached is not None:  # the targets, as subscribers have always had them
        doc["attached"] = [_json(target) for target in state.attached.targets]
    return doc


def _json(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json", exclude_none=True, by_alias=True)


def attributes(state: RunRecord, outcome: Outcome) -> dict[str, str]:
    found = {"status": outcome.value, "repository": image_label(state).split(":")[0].split("@")[0]}
    if state.job is not None:
        found["profile"] = state.job.binding.profile.value
    return found


def message(state: RunRecord, outcome: Outcome) -> str:
    """The published message; the report in S3 has every finding."""
    return notification.message(
        body(state, outcome),
        lambda text: document(state, outcome, text),
        f"the report has it all: {_report(state)}",
    )
