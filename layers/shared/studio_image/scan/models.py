"""What scanning one layer yields."""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator
from typing import Annotated, NamedTuple, overload

from pydantic import BaseModel, Field, PlainSerializer, PlainValidator

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


KINDS = (FILE, DIR, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO)
KIND_CODES = {kind: code for code, kind in enumerate(KINDS)}


class EntryTable:
    """A layer's entries in columns, an `Entry` made each time one is read: about 40 bytes an entry
    beside its path, where a list of Entry tuples costs about 250 (README: Reliability)."""

    __slots__ = ("_ends", "_gids", "_kinds", "_links", "_modes", "_paths", "_sizes", "_uids")

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._paths = bytearray()  # every path, UTF-8 with surrogate escapes, one after another
        self._ends = array("Q")  # where each path ends in `_paths`
        self._kinds = bytearray()  # index in KINDS
        self._sizes, self._modes, self._uids, self._gids = array("q"), array("q"), array("q"), array("q")
        self._links: dict[int, str] = {}  # by index, for the few entries that have one
        for entry in entries:
            self.append(entry)

    def append(self, entry: Entry) -> None:
        if entry.link:
            self._links[len(self._kinds)] = entry.link
        self._paths += entry.path.encode("utf-8", "surrogateescape")
        self._ends.append(len(self._paths))
        self._kinds.append(KIND_CODES[entry.kind])
        self._sizes.append(entry.size)
        self._modes.append(entry.mode)
        self._uids.append(entry.uid)
        self._gids.append(entry.gid)

    def path_chars(self) -> int:
        """About the characters of its paths and link targets (paths counted in UTF-8 bytes)."""
        return len(self._paths) + sum(map(len, self._links.values()))

    def kind(self, index: int) -> str:
        return KINDS[self._kinds[index]]

    def link(self, index: int) -> str:
        return self._links.get(index, "")

    def __len__(self) -> int:
        return len(self._kinds)

    @overload
    def __getitem__(self, index: int) -> Entry: ...

    @overload
    def __getitem__(self, index: slice) -> list[Entry]: ...

    def __getitem__(self, index: int | slice) -> Entry | list[Entry]:
        if isinstance(index, slice):
            return [self[i] for i in range(*index.indices(len(self)))]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError("entry index out of range")
        start = self._ends[index - 1] if index else 0
        return Entry(
            self._paths[start : self._ends[index]].decode("utf-8", "surrogateescape"),
            KINDS[self._kinds[index]],
            self._sizes[index],
            self._modes[index],
            self._uids[index],
            self._gids[index],
            self._links.get(index, ""),
        )

    def __iter__(self) -> Iterator[Entry]:
        return (self[index] for index in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, EntryTable | list | tuple):
            return list(self) == list(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]  # mutable

    def __repr__(self) -> str:
        return f"EntryTable({list(self)!r})"


def _to_table(value: object) -> EntryTable:
    """Entries as cached (a list of rows) or as built; a row of the wrong shape is a ValueError."""
    if isinstance(value, EntryTable):
        return value
    if not isinstance(value, list | tuple):
        raise ValueError("entries must be a list")
    table = EntryTable()
    for row in value:
        try:
            entry = Entry(*row)
        except TypeError as err:
            raise ValueError(f"not an entry: {row!r}") from err
        texts, numbers = (entry.path, entry.kind, entry.link), entry[2:6]
        if not all(type(t) is str for t in texts) or not all(type(n) is int for n in numbers):
            raise ValueError(f"not an entry: {row!r}")
        if entry.kind not in KIND_CODES:
            raise ValueError(f"unknown entry kind: {entry.kind!r}")
        table.append(entry)
    return table


Entries = Annotated[
    EntryTable,
    PlainValidator(_to_table),
    PlainSerializer(lambda table: [list(entry) for entry in table]),
]


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
    entries: Entries = Field(default_factory=EntryTable)
    whiteouts: list[str] = Field(default_factory=list)  # paths this layer deletes
    whiteout_positions: list[int] = Field(default_factory=list)  # entries before each whiteout
    opaque_dirs: list[str] = Field(default_factory=list)  # directories whose lower contents it hides
    contents: dict[str, str] = Field(default_factory=dict)  # captured small text files by path
    oversized: dict[str, int] = Field(default_factory=dict)  # files rules read, over the capture cap
    anomalies: list[Anomaly] = Field(default_factory=list)
