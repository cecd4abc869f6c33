"""What travels in the run state is capped: Step Functions passes at most 256 KiB between states
and cannot catch States.DataLimitExceeded. Nothing that grows with the image or its logs travels
whole: the report is in S3, the canary's start-up log is copied to S3 as it is read, and the state
keeps the latest lines, one match per signature and the first findings, each clipped."""

from __future__ import annotations

from ..findings import Finding
from .signatures import SignatureMatch

MAX_TEXT = 500  # characters of one log line, or of one finding's message, remediation or path
KEPT_LINES = 50  # the latest start-up lines the state keeps
LISTED_FINDINGS = 20  # the findings the state keeps (errors first, as the rules sort them)


def clip(text: str, limit: int = MAX_TEXT) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def keep_lines(kept: list[str], new: list[str]) -> list[str]:
    return [clip(line) for line in (kept + new)[-KEPT_LINES:]]


def merge_matches(earlier: list[SignatureMatch], new: list[SignatureMatch]) -> list[SignatureMatch]:
    """The earlier matches, then each signature first seen in the new lines (clipped): a
    signature that has scrolled out of the kept lines is still reported."""
    seen = {m.signature for m in earlier}
    added = [
        m.model_copy(update={"line": clip(m.line), "context": [clip(c) for c in m.context]})
        for m in new
        if m.signature not in seen
    ]
    return earlier + added


def travelling_findings(findings: list[Finding]) -> list[Finding]:
    return [
        f.model_copy(
            update={
                "message": clip(f.message),
                "remediation": clip(f.remediation),
                "path": clip(f.path) if f.path else f.path,
            }
        )
        for f in findings[:LISTED_FINDINGS]
    ]
