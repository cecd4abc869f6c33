"""How every notification this pipeline sends is put together, the run's and the app-start watch's:
a subject a person can scan, a body that says what to do, and a JSON document for machine
subscribers. Messages are published with MessageStructure=json, so email gets the text and SQS,
Lambda and HTTPS get the JSON document under `default`."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from .signatures import SignatureMatch

MAX_SUBJECT = 99  # SNS: ASCII, under 100 characters, no line breaks
MAX_MESSAGE_BYTES = 256 * 1024  # SNS's limit on a message


def subject(outcome: str, text: str) -> str:
    """`[OUTCOME] text`, in ASCII, cut to SNS's limit."""
    line = f"[{outcome.upper()}] {text}".encode("ascii", "replace").decode()
    return line if len(line) <= MAX_SUBJECT else line[: MAX_SUBJECT - 3] + "..."


def match_lines(match: SignatureMatch) -> list[str]:
    """A known start-up failure: what it is, the fix, and the log lines that show it."""
    lines = [f"- {match.signature}: {match.cause}", f"  Fix: {match.fix}", "  Log:"]
    return lines + [f"  > {line}" for line in match.context]


def message(text: str, document: Callable[[str], dict[str, Any]], everything: str) -> str:
    """The published message: `text` for email, `document(text)` for every other protocol. Within
    SNS's size limit, the text is what gives way (never the facts); `everything` ("the report has
    it all: ...") says where the rest is."""
    while True:
        found = json.dumps({"default": json.dumps(document(text)), "email": text})
        if len(found.encode()) <= MAX_MESSAGE_BYTES or len(text) < 1000:
            return found
        text = text[: len(text) // 2].rstrip() + f"\n\n... shortened for SNS; {everything}"
