"""What scanning one layer yields."""

from __future__ import annotations

from array import array
from bisect import bisect_right
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
    """A layer's entries in columns, an `Entry` made each time one is read: 25 bytes an entry beside
    its last name, where a list of Entry tuples costs about 250 (README: Reliability). A path is
    kept as its directory, once for a run of entries in the same directory (tar lists a directory's
    entries together), and its last name."""

    __slots__ = (
        "_dir_ends", "_dir_ids", "_dirs", "_gids", "_kinds", "_last_dir", "_link_chars", "_links",
        "_modes", "_name_ends", "_names", "_sizes", "_uids",
    )  # fmt: skip

    def __init__(self, entries: Iterable[Entry] = ()) -> None:
        self._dirs = bytearray()  # each run's directory, UTF-8 with surrogate escapes, one after another
        self._dir_ends = array("q")  # where each run's directory ends in `_dirs`
        self._last_dir: tuple[str, int] | None = None  # the latest run's directory and number
        self._names = bytearray()  # each entry's last name, as `_dirs`
        self._kinds = bytearray()  # index in KINDS
        # Each entry's run, where its name ends in `_names`, size, mode and owner: 4 bytes each, as
        # most layers' numbers fit, until one does not (`_widen`).
        self._dir_ids, self._name_ends, self._sizes = array("I"), array("I"), array("I")
        self._modes, self._uids, self._gids = array("I"), array("I"), array("I")
        self._links: dict[int, str] = {}  # by index, for the few entries that have one
        self._link_chars = 0
        for entry in entries:
            self.append(entry)

    def append(self, entry: Entry) -> None:
        self.add(entry.path, KIND_CODES[entry.kind], entry.size, entry.mode, entry.uid, entry.gid, entry.link)

    def add(self, path: str, kind: int, size: int, mode: int, uid: int, gid: int, link: str = "") -> None:
        """Append an entry given as its fields, `kind` as its index in KINDS."""
        directory, _, name = path.rpartition("/")
        last = self._last_dir
        if last is None or last[0] != directory:
            encoded = directory.encode("utf-8", "surrogateescape")
            self._dirs += encoded
            self._dir_ends.append(len(self._dirs))
            last = self._last_dir = (directory, len(self._dir_ends) - 1)
        encoded = name.encode("utf-8", "surrogateescape")
        self._names += encoded
        for wide in (False, True):  # a second time only after a number did not fit in 4 bytes
            try:
                self._dir_ids.append(last[1])
                self._name_ends.append(len(self._names))
                self._sizes.append(size)
                self._modes.append(mode)
                self._uids.append(uid)
                self._gids.append(gid)
                break
            except OverflowError:
                if wide:
                    raise
                self._widen()
        if link:
            self._links[len(self._kinds)] = link
            self._link_chars += len(link)
        self._kinds.append(kind)  # last: the entry is whole

    def _widen(self) -> None:
        """Every number column in 8 bytes (signed, as a tar number can be), without any part of
        the entry whose number did not fit."""
        rows = len(self._kinds)
        for name in ("_dir_ids", "_name_ends", "_sizes", "_modes", "_uids", "_gids"):
            setattr(self, name, array("q", getattr(self, name)[:rows]))

    def held_bytes(self) -> int:
        """What its paths and link targets take here: each run's directory and each last name in
        UTF-8 bytes, link targets in characters (the memory `ScanLimits.max_layer_path_chars` bounds)."""
        return len(self._dirs) + len(self._names) + self._link_chars

    def _directory(self, run: int) -> str:
        ends = self._dir_ends
        return self._dirs[ends[run - 1] if run else 0 : ends[run]].decode("utf-8", "surrogateescape")

    def path(self, index: int) -> str:
        ends = self._name_ends
        name = self._names[ends[index - 1] if index else 0 : ends[index]]
        return f"{self._directory(self._dir_ids[index])}/{name.decode('utf-8', 'surrogateescape')}"

    def rows(self) -> Iterator[tuple[str, str]]:
        """Every entry's path and kind in order, each directory decoded once a run."""
        names, dir_ids, kinds = self._names, self._dir_ids, self._kinds
        run, directory, start = -1, "", 0
        for index, end in enumerate(self._name_ends):
            if dir_ids[index] != run:
                run = dir_ids[index]
                directory = self._directory(run)
            yield f"{directory}/{names[start:end].decode('utf-8', 'surrogateescape')}", KINDS[kinds[index]]
            start = end

    def runs(self) -> Iterator[tuple[str, int, int]]:
        """(directory, first index, index past the last) of each run of entries in one directory."""
        dir_ids, count, start = self._dir_ids, len(self._kinds), 0
        while start < count:
            run = dir_ids[start]
            end = bisect_right(dir_ids, run, start, count)  # runs are numbered in order
            yield self._directory(run), start, end
            start = end

    def names(self, start: int, stop: int) -> Iterator[tuple[bytes, int]]:
        """Each entry's last name (UTF-8 with surrogate escapes) and kind code, rows `start` to `stop`."""
        names, ends, kinds = self._names, self._name_ends, self._kinds
        begin = ends[start - 1] if start else 0
        for index in range(start, stop):
            end = ends[index]
            yield bytes(names[begin:end]), kinds[index]
            begin = end

    def kind(self, index: int) -> str:
        return KINDS[self._kinds[index]]

    def owned_above(self, limit: int) -> Iterator[int]:
        """The indexes of entries whose owner UID or GID is above `limit` (most layers have none:
        their columns say so at once)."""
        uids, gids = self._uids, self._gids
        if not uids or (max(uids) <= limit and max(gids) <= limit):
            return iter(())
        return (row for row in range(len(uids)) if uids[row] > limit or gids[row] > limit)

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
        return self._entry(index, self.path(index))

    def _entry(self, index: int, path: str) -> Entry:
        return Entry(
            path,
            KINDS[self._kinds[index]],
            self._sizes[index],
            self._modes[index],
            self._uids[index],
            self._gids[index],
            self._links.get(index, ""),
        )

    def __iter__(self) -> Iterator[Entry]:
        return (self._entry(index, path) for index, (path, _) in enumerate(self.rows()))

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
