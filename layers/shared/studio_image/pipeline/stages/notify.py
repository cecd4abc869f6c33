"""Notify: publish the run's one notification, pass or fail, and record its result on the
digest's claim."""

from __future__ import annotations

from ..models import Notice
from ..records import Claims
from ..runnotice import attributes, image_label, message, subject, verdict_of
from ..services import Services
from ..state import RunRecord


def notify(run: RunRecord, svc: Services) -> Notice:
    outcome = run.outcome
    title = subject(run, outcome)
    message_id = svc.topic.publish(title, message(run, outcome), attributes(run, outcome))
    version_arn = run.registration.image_version_arn if run.registration else None
    resolved = run.resolved
    # A run holds a claim once Resolve found its binding, unless it retires (Retire lets go of it).
    digest = resolved.pushed.digest if resolved else None
    if resolved and resolved.job and resolved.retire is None and digest:
        claims = Claims(svc.state)
        claims.finish(resolved.pushed.repository, digest, run.execution_arn, outcome, version_arn)
    return Notice(
        outcome=outcome,
        subject=title,
        message_id=message_id,
        image=image_label(run),
        verdict=verdict_of(run),
        image_version_arn=version_arn or (run.skip.image_version_arn if run.skip else None),
        attached=bool(run.attached and run.attached.targets) and not (run.canary and run.canary.rolled_back),
        report_uri=run.evaluation.report_markdown_uri if run.evaluation else None,
    )
