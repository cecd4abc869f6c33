"""Package databases captured while a layer streams past, for the SBOM: which files, how much of each.

Each kind has a size cap. Databases (dpkg, apk, rpm) are kept whole or not at all; metadata files
whose header is all we read (Python's METADATA, R's DESCRIPTION) keep only a bounded prefix.
"""

from __future__ import annotations

import re
from typing import NamedTuple

MB = 1 << 20


class CaptureKind(NamedTuple):
    pattern: re.Pattern[str]
    cap: int  # bytes
    prefix: bool  # True: keep the first `cap` bytes of a larger file; False: skip a larger file
    binary: bool = False  # kept byte for byte (as latin-1 text), not decoded as UTF-8


KINDS = {
    "dpkg": CaptureKind(re.compile(r"/var/lib/dpkg/status"), 32 * MB, prefix=False),
    "dpkg-status.d": CaptureKind(
        re.compile(r"/var/lib/dpkg/status\.d/[^/]+(?<!\.md5sums)"), 1 * MB, prefix=False
    ),
    "apk": CaptureKind(re.compile(r"/lib/apk/db/installed"), 32 * MB, prefix=False),
    "rpm": CaptureKind(
        re.compile(r"/(usr/lib/sysimage|var/lib)/rpm/rpmdb\.sqlite"), 128 * MB, prefix=False, binary=True
    ),
    "python": CaptureKind(
        re.compile(r".*/(site|dist)-packages/[^/]+(\.dist-info/METADATA|\.egg-info/PKG-INFO|\.egg-info)"),
        64 << 10,
        prefix=True,
    ),
    "r": CaptureKind(re.compile(r".*/(library|site-library)/[^/]+/DESCRIPTION"), 64 << 10, prefix=True),
}


# One pass over a path for every kind (the scan asks this of every file).
_ANY = re.compile("|".join(f"(?P<k{i}>{kind.pattern.pattern})" for i, kind in enumerate(KINDS.values())))
_NAMES = {f"k{i}": name for i, name in enumerate(KINDS)}


# What the last name of every path a kind matches is, or where it is: most paths are ruled out here.
PACKAGE_BASES = frozenset({"status", "installed", "rpmdb.sqlite", "METADATA", "PKG-INFO", "DESCRIPTION"})
STATUS_D = "/var/lib/dpkg/status.d/"


def maybe_package(path: str, base: str) -> bool:
    """False where `path` (whose last name is `base`) is surely of no kind: the scan asks this of
    every file before `capture_size` asks the pattern."""
    return base in PACKAGE_BASES or base.endswith(".egg-info") or path.startswith(STATUS_D)


def capture_kind(path: str) -> str | None:
    """The package database kind `path` holds, if any."""
    found = _ANY.fullmatch(path)
    return _NAMES[found.lastgroup] if found and found.lastgroup else None


def capture_size(path: str, size: int) -> int:
    """How many bytes of the file at `path` (of `size` bytes) to keep; 0 for none."""
    name = capture_kind(path)
    if name is None:
        return 0
    kind = KINDS[name]
    if size <= kind.cap:
        return size
    return kind.cap if kind.prefix else 0


def capture_text(path: str, data: bytes) -> str:
    """The captured bytes as stored in a layer scan's `contents`. Binary databases are kept
    losslessly as latin-1 text (one character per byte, which CPython stores in one byte)."""
    name = capture_kind(path)
    if name is not None and KINDS[name].binary:
        return data.decode("latin-1")
    text = data.decode("utf-8", "replace")
    if name in ("python", "r"):  # only the header block names the package
        text = text.split("\n\n", 1)[0]
    return text
