"""CloudWatch Logs filter patterns for unstructured lines: moto returns every event for anything
but a plain term. Supported: terms (all must appear), "quoted phrases", `?term` (any of these),
and `-term` (must not appear); matching is case-sensitive, as in CloudWatch."""

from __future__ import annotations

import shlex
from collections.abc import Iterable


def matches(pattern: str, line: str) -> bool:
    terms = shlex.split(pattern) if pattern.strip() else []
    optional = [t[1:] for t in terms if t.startswith("?")]
    excluded = [t[1:] for t in terms if t.startswith("-") and len(t) > 1]
    required = [t for t in terms if not t.startswith(("?", "-")) or t == "-"]
    if any(t in line for t in excluded):
        return False
    if optional and not any(t in line for t in optional):
        return False
    return all(t in line for t in required)


def filter_lines(pattern: str, lines: Iterable[str]) -> list[str]:
    return [line for line in lines if matches(pattern, line)]
