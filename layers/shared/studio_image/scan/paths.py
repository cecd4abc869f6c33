"""Path normalisation: every path is made absolute and canonical before anything records it."""

from __future__ import annotations


def normalize(raw: str) -> tuple[str, bool]:
    """Return the canonical absolute form of a tar member path, and whether it tried to escape.

    Leading "./" and "/", repeated slashes and "." segments are dropped and ".." is resolved.
    A ".." above the root stays at the root (as container runtimes apply it) and is reported.
    """
    if not raw.startswith(".") and "/." not in raw and "//" not in raw:
        return "/" + raw.strip("/"), False  # the usual name: no empty, "." or ".." segment
    parts: list[str] = []
    escaped = False
    for segment in raw.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if parts:
                parts.pop()
            else:
                escaped = True
            continue
        parts.append(segment)
    return "/" + "/".join(parts), escaped


def parent(path: str) -> str:
    head = path.rpartition("/")[0]
    return head or "/"


def is_within(path: str, root: str) -> bool:
    """True when a normalised path is root itself or lies under it ("/opt/mlflow" is not in "/opt/ml")."""
    return path == root or path.startswith(root.rstrip("/") + "/")


def printable(text: str, keep: str = "") -> str:
    """`text` safe for every output (UTF-8 text, JSON, XML) and reversible: a name that was not
    UTF-8 carries its undecodable bytes as surrogate escapes, shown as `\\xNN`; other characters
    that do not print (controls, and not those in `keep`) as `\\xNN` or `\\uNNNN`; backslashes are
    doubled. Text that prints is returned as it is."""
    if text.isprintable():
        return text
    out = []
    for char in text:
        code = ord(char)
        if char == "\\":
            out.append("\\\\")
        elif 0xDC80 <= code <= 0xDCFF:  # an undecodable byte (surrogateescape)
            out.append(f"\\x{code - 0xDC00:02x}")
        elif char.isprintable() or char in keep:
            out.append(char)
        else:
            out.append(f"\\x{code:02x}" if code < 0x80 else f"\\u{code:04x}")
    return "".join(out)
