"""Strings that come from an image (file names, kernel display names, labels) made inert for the
places they are shown: no terminal control, no line of their own, no markup."""

from __future__ import annotations

import re

# C0 controls (newline and tab included: an image string never starts a line of its own), DEL, C1.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# CommonMark: "Any ASCII punctuation character may be backslash-escaped" and is then literal.
_MARKDOWN_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def _visible(match: re.Match[str]) -> str:
    char = match.group()
    return {"\n": "\\n", "\r": "\\r", "\t": "\\t"}.get(char, f"\\x{ord(char):02x}")


def inert(text: object) -> str:
    """`text` on one line, its control characters shown as escapes (ESC as \\x1b, a newline as \\n)."""
    return _CONTROL.sub(_visible, str(text))


def markdown_text(text: object) -> str:
    """`text` as literal Markdown text: inert, and every ASCII punctuation character escaped, so
    nothing in it is a tag, link, code span or table cell break."""
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", inert(text))
