"""`studio-image sandbox demo` (`make demo`): sample images for every profile, and images Studio
would fail to start, pushed one after another through the whole pipeline in the sandbox; then a
table of what happened to each."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import TextIO

from pydantic import BaseModel

from studio_image.units import plural

from .samples import SAMPLES, Sample
from .sandbox import Sandbox
from .watch import FINAL, state_path, write_table

TAG = "1.0"


class DemoRow(BaseModel):
    image: str
    why: str
    expected_profile: str
    expected_verdict: str
    expected_outcome: str
    profile: str | None  # the binding the pipeline chose, from the notification
    verdict: str | None
    outcome: str | None
    image_version_arn: str | None
    attached: bool
    notification: str | None  # the subject SNS delivered
    seconds: float | None

    @property
    def as_expected(self) -> bool:
        found = (self.profile, self.verdict, self.outcome)
        return found == (self.expected_profile, self.expected_verdict, self.expected_outcome)


def _follow(sandbox: Sandbox, execution_arn: str, label: str, out: TextIO) -> None:
    """One line per image: the states it has been through, rewritten in place on a terminal."""
    live = out.isatty()
    while True:
        history = sandbox.history(execution_arn)
        line = f"{label}  {' › '.join(state_path(history))}"
        done = bool(history) and history[-1]["type"] in FINAL
        if live:
            out.write(f"\r\033[K{line}")
            out.flush()
        if done:
            break
        time.sleep(0.2)
    if not live:
        out.write(line)
    out.write("\n")


def _expected_outcome(sample: Sample) -> str:
    if sample.expect == "fail":
        return "refused"
    if sample.profile == "gateway-provisioners" or sample.starts:  # checked only, or started fine
        return "passed"
    return "canary-failed"


def run(sandbox: Sandbox, out: TextIO) -> list[DemoRow]:
    rows = []
    width = max(len(sample.name) for sample in SAMPLES) + len("studio/")
    with tempfile.TemporaryDirectory(prefix="studio-image-demo-") as tmp:
        for sample in SAMPLES:
            repository = f"studio/{sample.name}"
            pushed = sandbox.push(sample.build(Path(tmp)), repository, TAG)
            execution_arn = sandbox.execution_for(pushed.repository, pushed.digest, pushed.tag)
            _follow(sandbox, execution_arn, repository.ljust(width), out)
            result = sandbox.result(execution_arn)
            notification = sandbox.notification(result.message_id or "")
            job = notification.document.get("job", {}) if notification else {}
            rows.append(
                DemoRow(
                    image=f"{repository}:{TAG}",
                    why=sample.why,
                    expected_profile=sample.profile,
                    expected_verdict=sample.expect,
                    expected_outcome=_expected_outcome(sample),
                    profile=job.get("binding", {}).get("profile"),
                    verdict=result.verdict,
                    outcome=result.outcome,
                    image_version_arn=result.image_version_arn,
                    attached=result.attached,
                    notification=notification.subject if notification else None,
                    seconds=result.seconds,
                )
            )
    return rows


def summary(rows: list[DemoRow], out: TextIO) -> None:
    table = [("IMAGE", "PROFILE", "VERDICT", "IMAGE VERSION", "ATTACHED", "NOTIFICATION")]
    for row in rows:
        version = row.image_version_arn.split("image-version/", 1)[1] if row.image_version_arn else "-"
        expected = f" (expected {row.expected_verdict}, {row.expected_outcome})"
        verdict = (row.verdict or "-") + ("" if row.as_expected else expected)
        table.append(
            (
                row.image,
                row.profile or "-",
                verdict,
                version,
                "yes" if row.attached else "no",
                row.notification or "-",
            )
        )
    out.write("\n")
    write_table(table, out)
    attached = sum(row.attached for row in rows)
    refused = sum(row.outcome == "refused" for row in rows)
    canary = sum(row.outcome == "canary-failed" for row in rows)
    surprises = sum(not row.as_expected for row in rows)
    rolled_back = "its canary start and was" if canary == 1 else "their canary start and were"
    out.write(
        f"\n{plural(len(rows), 'image')}: {attached} registered, started and attached, "
        f"{refused} refused by the checks, {plural(canary, 'image')} failed {rolled_back} rolled back, "
        f"{len(rows) - attached - refused - canary} checked only; "
        + ("every verdict as expected\n" if not surprises else f"{surprises} not as expected\n")
    )
