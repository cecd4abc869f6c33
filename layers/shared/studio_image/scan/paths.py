"""Path normalisation: every path is made absolute and canonical before anything records it."""

from __future__ import annotations


def normalize(raw: str) -> tuple[str, bool]:
    """Return the canonical absolute form of a tar member path, and whether it tried to escape.

    Leading "./" and "/", repeated slashes and "." segments are dropped and ".." is resolved.
    A ".." above the root stays at the root (as container runtimes apply it) and is reported.
    """
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
