"""What scanning one layer yields."""

from __future__ import annotations

from typing import NamedTuple

from pydantic import BaseModel, Field

FILE = "file"
DIR = "dir"
SYMLINK = "symlink"
HARDLINK = "hardlink"
CHAR = "char"
BLOCK = "block"
FIFO = "fifo"


class Entry(NamedTuple):
    """One tar member, as the final filesystem will hold it. A tuple: layers hold many of them."""

    path: str
    kind: str
    size: int
    mode: int
    uid: int
    gid: int
    link: str = ""  # symlink target as written, or the normalised hardlink target


class Anomaly(BaseModel):
    kind: str  # "path-escapes-root", "compression-mismatch", ...
    path: str = ""
    detail: str


class LayerScan(BaseModel):
    """A layer's entries, whiteouts and captured small files. Cached by the layer's digest."""

    digest: str
    media_type: str
    compression: str
    compressed_size: int
    uncompressed_size: int
    entries: list[Entry] = Field(default_factory=list)
    whiteouts: list[str] = Field(default_factory=list)  # paths this layer deletes
    whiteout_positions: list[int] = Field(default_factory=list)  # entries before each whiteout
    opaque_dirs: list[str] = Field(default_factory=list)  # directories whose lower contents it hides
    contents: dict[str, str] = Field(default_factory=dict)  # captured small text files by path
    oversized: dict[str, int] = Field(default_factory=dict)  # files rules read, over the capture cap
    anomalies: list[Anomaly] = Field(default_factory=list)
