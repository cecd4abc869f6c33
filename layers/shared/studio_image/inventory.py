"""The image inventory: layer scans applied in order into the final filesystem."""

from __future__ import annotations

import gc
import re
from array import array
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import NamedTuple, overload

from pydantic import BaseModel, ConfigDict, Field

from .errors import LayerLimitExceeded
from .limits import ScanLimits
from .oci import ImageConfig, Platform
from .scan.models import DIR, HARDLINK, KIND_CODES, KINDS, SYMLINK, Anomaly, Entry, EntryTable, LayerScan
from .scan.tar import CAPTURE, CAPTURE_BASES, CAPTURE_NAMES

MAX_SYMLINK_HOPS = 40  # as Linux's path resolution allows
MAX_APPLY_HOPS = 255  # as containerd's fs.RootPath allows while it unpacks
PARENTS_KEPT = 16384  # parent directories remembered as resolved, while nothing changes how they resolve
SPECIAL_KINDS = frozenset({KIND_CODES[DIR], KIND_CODES[HARDLINK]})  # written as a Node, not an int
SYMLINK_CODE, DIR_CODE = KIND_CODES[SYMLINK], KIND_CODES[DIR]
# Names a symlink that reads as its target may have (follow_captured_symlinks): such symlinks are
# written one at a time and remembered.
FOLLOWED = CAPTURE_BASES | CAPTURE_NAMES
FOLLOWED_ENCODED = frozenset(name.encode() for name in FOLLOWED)
PACKED = 256  # packed children a directory finds by searching their names; more are indexed
REMOVED = (1 << 64) - 1  # a packed child removed from an indexed directory


class Needles(NamedTuple):
    """Substrings of names, as one pattern for text and one for the packed UTF-8 names."""

    text: re.Pattern[str]
    encoded: re.Pattern[bytes]

    @classmethod
    def of(cls, needles: Iterable[str]) -> Needles:
        either = "|".join(map(re.escape, needles))
        return cls(re.compile(either), re.compile(either.encode("utf-8", "surrogateescape")))


class Children:
    """A directory's children by name, as a dict would hold them; but children kept as ints (most of
    a layer's files) are packed: their names in one bytearray, each after a NUL (no name holds one),
    their ints in an array beside it, about 25 bytes a child where a dict slot and a name string
    cost about 100. Up to `PACKED` names a name is found by searching the bytes; past that, through
    an open-addressing index of the rows by the hash of their names (16 bytes a child more), where
    a removed child is marked `REMOVED` instead (rows keep their numbers). The packed storage is
    made with its first name (many directories hold only directories)."""

    __slots__ = ("_dict", "_ends", "_index", "_names", "_removed", "_rows")

    def __init__(self) -> None:
        self._dict: dict[str, Node] = {}  # directories and children with an Entry of their own
        self._names: bytearray | None = None  # b"\0name\0name\0"
        self._ends: array[int] | None = None  # where each row's name ends in `_names`
        self._rows: array[int] | None = None
        self._index: array[int] | None = None  # row numbers by hash, -1 where free; past PACKED rows
        self._removed = 0  # rows marked REMOVED

    def _start(self, row: int) -> int:
        assert self._ends is not None
        return self._ends[row - 1] + 1 if row else 1

    def _find(self, encoded: bytes) -> int:
        """The row of a UTF-8 name among the packed; -1 if it is not packed."""
        names, ends, rows, index = self._names, self._ends, self._rows, self._index
        if not names or ends is None or rows is None:
            return -1
        if index is None:
            pos = names.find(b"\0%b\0" % encoded)
            return names.count(0, 0, pos) if pos >= 0 else -1
        mask = len(index) - 1
        slot = hash(encoded) & mask
        while (row := index[slot]) >= 0:
            if rows[row] != REMOVED and names[self._start(row) : ends[row]] == encoded:
                return row
            slot = (slot + 1) & mask
        return -1

    def get(self, name: str) -> Node | int | None:
        found = self._dict.get(name)
        if found is None and self._rows:
            row = self._find(name.encode("utf-8", "surrogateescape"))
            return self._rows[row] if row >= 0 else None
        return found

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None

    def __getitem__(self, name: str) -> Node | int:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def add_new(self, encoded: bytes, row: int) -> bool:
        """Add a child kept as an int under its UTF-8 name, unless the name is here: False then."""
        in_dict = bool(self._dict) and encoded.decode("utf-8", "surrogateescape") in self._dict
        if in_dict or self._find(encoded) >= 0:
            return False
        self._pack(encoded, row)
        return True

    def add(self, name: str, child: Node | int) -> None:
        """Add a child whose name is not here yet."""
        if isinstance(child, int):
            self._pack(name.encode("utf-8", "surrogateescape"), child)
        else:
            self._dict[name] = child

    def _pack(self, encoded: bytes, child: int) -> None:
        if self._names is None or self._ends is None or self._rows is None:
            self._names, self._ends, self._rows = bytearray(b"\0"), array("I"), array("Q")
        self._names += b"%b\0" % encoded
        self._ends.append(len(self._names) - 1)
        self._rows.append(child)
        if self._index is not None and 2 * len(self._rows) <= len(self._index):
            self._place(len(self._rows) - 1, encoded)
        elif len(self._rows) > PACKED:
            self._reindex()

    def _place(self, row: int, encoded: bytes) -> None:
        index = self._index
        assert index is not None
        mask = len(index) - 1
        slot = hash(encoded) & mask
        while index[slot] >= 0:
            slot = (slot + 1) & mask
        index[slot] = row

    def _reindex(self) -> None:
        """Index every row again, in a table at least four times their number (half full at most)."""
        names, ends = self._names, self._ends
        assert names is not None and ends is not None
        size = 1 << (4 * len(ends)).bit_length()
        self._index = array("q", [-1]) * size
        for row, end in enumerate(ends):
            self._place(row, bytes(names[self._start(row) : end]))

    def __setitem__(self, name: str, child: Node | int) -> None:
        self.pop(name)
        self.add(name, child)

    def pop(self, name: str) -> Node | int | None:
        """Remove `name` and return its child; None if it is not here."""
        node = self._dict.pop(name, None)
        if node is not None or not self._rows:
            return node
        encoded = name.encode("utf-8", "surrogateescape")
        row = self._find(encoded)
        if row < 0:
            return None
        found = self._rows[row]
        if self._index is not None:
            self._rows[row] = REMOVED
            self._removed += 1
            return found
        assert self._names is not None and self._ends is not None
        start = self._start(row)
        del self._names[start - 1 : self._ends[row]]  # the name and the NUL before it
        del self._ends[row], self._rows[row]
        for later in range(row, len(self._ends)):
            self._ends[later] -= len(encoded) + 1
        return found

    def __delitem__(self, name: str) -> None:
        if self.pop(name) is None:
            raise KeyError(name)

    def items(self, needles: Needles | None = None) -> Iterator[tuple[str, Node | int]]:
        """Every child by name; with `needles`, only those whose name holds one of them."""
        search = needles.text.search if needles else None
        yield from ((name, child) for name, child in self._dict.items() if search is None or search(name))
        yield from self.packed(needles)

    def nodes(self) -> Iterable[tuple[str, Node]]:
        """The children held as nodes (directories and entries of their own), by name."""
        return self._dict.items()

    def packed(self, needles: Needles | None = None) -> Iterator[tuple[str, int]]:
        """The children kept as ints, by name; with `needles`, only those whose name holds one of
        them (the names are searched at once, and passed over unless one holds a needle)."""
        names, rows = self._names, self._rows
        if not names or not rows or (needles is not None and not needles.encoded.search(names)):
            return
        for encoded, row in zip(names[1:-1].split(b"\0"), rows, strict=True):
            if row == REMOVED:
                continue
            name = encoded.decode("utf-8", "surrogateescape")
            if needles is None or needles.text.search(name):
                yield name, row

    def values(self) -> Iterator[Node | int]:
        yield from self._dict.values()
        yield from (row for row in self._rows or () if row != REMOVED)

    def clear(self) -> None:
        self._dict.clear()
        self._names = self._ends = self._rows = self._index = None
        self._removed = 0

    def __len__(self) -> int:
        return len(self._dict) + len(self._rows or ()) - self._removed


class Node:
    """One name in the filesystem tree: the entry written there (row `index` of its layer's table,
    or an `Entry` of its own where the tree changed it: a hardlink, a path through a symlink, an
    implied directory) and the layer that wrote it, and its children if it is a directory. A tree,
    not a dict of full paths, so that memory grows with the names in the input, never with the
    square of a path's depth; no full path is kept, the tree's names spell it."""

    __slots__ = ("children", "index", "layer", "source")

    def __init__(self, source: EntryTable | Entry, index: int, layer: int, kind: str) -> None:
        self.source = source
        self.index = index
        self.layer = layer
        # A child a layer listed as it is (a file or link at the path it names, layer under 256) is
        # kept as the int `index << 8 | layer`: a Node is made for it only when it is read.
        self.children: Children | None = Children() if kind == DIR else None

    @property
    def entry(self) -> Entry:
        source = self.source
        return source if isinstance(source, Entry) else source[self.index]

    @property
    def kind(self) -> str:
        source = self.source
        return source.kind if isinstance(source, Entry) else source.kind(self.index)

    @property
    def link(self) -> str:
        source = self.source
        return source.link if isinstance(source, Entry) else source.link(self.index)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Node) and (self.entry, self.layer) == (other.entry, other.layer)

    __hash__ = None  # type: ignore[assignment]  # mutable: a directory's children change

    def __repr__(self) -> str:
        return f"Node({self.entry!r}, layer={self.layer})"


IMPLIED = Entry("", DIR, 0, 0o755, 0, 0)  # a directory made because something was written below it


def implied() -> Node:
    return Node(IMPLIED, 0, -1, DIR)


class NodeView:
    """The listed nodes by final path, read from the tree (a dict of them would cost each entry
    its full path)."""

    def __init__(self, files: Filesystem) -> None:
        self._files = files

    def _listed(self, needles: Needles | None = None) -> Iterator[tuple[str, Node | int]]:
        """Every listed node by path; with `needles`, those whose last name holds one of them."""
        search = needles.text.search if needles else None
        stack = [("", self._files.root)]
        while stack:
            path, node = stack.pop()
            children = node.children
            assert children is not None
            below = []
            for name, child in children.nodes():
                named = f"{path}/{name}"
                if child.source is not IMPLIED and (search is None or search(name)):
                    yield named, child
                if child.children is not None:
                    below.append((named, child))
            for name, row in children.packed(needles):
                yield f"{path}/{name}", row
            stack += below

    def items(self) -> Iterator[tuple[str, Node]]:
        as_node = self._files.as_node
        return ((path, as_node(child)) for path, child in self._listed())

    def kinds(self, *needles: str) -> Iterator[tuple[str, str]]:
        """(path, kind) of every listed node, without making a Node or an Entry of each; with
        `needles`, of those whose last name holds one of them (rules that look for names ask so:
        a directory whose names hold none is passed over at once)."""
        tables = self._files._tables
        for path, child in self._listed(Needles.of(needles) if needles else None):
            yield path, (tables[child & 0xFF].kind(child >> 8) if isinstance(child, int) else child.kind)

    def values(self) -> Iterator[Node]:
        return (node for _, node in self.items())

    def directories(self, *names: str) -> Iterator[tuple[str, Node]]:
        """Every directory named one of `names`, listed or implied, by path, with its node. Only
        directories are walked (they are never packed), so a tree of many files costs little."""
        stack = [("", self._files.root)]
        while stack:
            path, node = stack.pop()
            assert node.children is not None
            for name, child in node.children.nodes():
                if child.children is not None:
                    named = f"{path}/{name}"
                    if name in names:
                        yield named, child
                    stack.append((named, child))

    def __iter__(self) -> Iterator[str]:
        return (path for path, _ in self._listed())

    def __len__(self) -> int:
        return self._files.listed

    def get(self, path: str) -> Node | None:
        return self._files.get(path)

    def __getitem__(self, path: str) -> Node:
        node = self._files.get(path)
        if node is None:
            raise KeyError(path)
        return node

    def __contains__(self, path: object) -> bool:
        return isinstance(path, str) and self._files.get(path) is not None

    def __eq__(self, other: object) -> bool:
        if isinstance(other, NodeView):
            return dict(self.items()) == dict(other.items())
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


class Filesystem:
    """The final filesystem, built as containerd applies layers: entries in order, each written
    where its parent directory resolves to through symlinks already there (clamped at the root),
    whiteouts where they sit among the entries, opaque markers first, a hardlink a copy of its
    target's inode when it is made."""

    def __init__(self, max_names: int = ScanLimits.max_names) -> None:
        self.listed = 0  # nodes a layer listed (not implied)
        self._names_left = max_names  # names the tree may still hold (listed and implied)
        self._max_names = max_names
        self.contents: dict[str, str] = {}  # captured text of small files, by final path
        self.oversized: dict[str, int] = {}  # files rules read that were too large to keep, by path
        self.root = implied()
        self._tables: dict[int, EntryTable] = {}  # by layer, for the children kept as ints
        # Bumped whenever a name is removed or replaced: only that can change where a directory
        # resolves to (a new name, a symlink too, is on no path resolved before it).
        self._generation = 0
        self._parents: dict[str, tuple[Node, str]] = {}  # folder as written -> (its node, its path)
        self._parents_generation = 0
        self._followed: list[str] = []  # symlinks written with a name in FOLLOWED, by final path

    @property
    def nodes(self) -> NodeView:
        """The nodes by final path, for rules that scan every node. Made on each use: a view kept
        here would close a reference cycle, and a tree in a cycle waits for the cycle collector
        (tens of milliseconds for 40,000 entries, at the latest at exit) where reference counting
        frees it at once."""
        return NodeView(self)

    def apply(self, scan: LayerScan, layer: int) -> None:
        self._tables[layer] = scan.entries
        # Opaque markers hide what lower layers wrote, wherever they sit in the layer.
        for directory in scan.opaque_dirs:
            node, _ = self._walk(directory, create=True)
            if node is not None and node.children:
                for child in node.children.values():
                    self._drop(self.as_node(child))
                node.children.clear()
                self._generation += 1
        # Whiteouts apply where they sit among the entries, as containerd meets them.
        positions = scan.whiteout_positions or [0] * len(scan.whiteouts)
        pending = list(zip(positions, scan.whiteouts, strict=True))[::-1]
        table = scan.entries
        captured = {path.rpartition("/")[0] for path in (*scan.contents, *scan.oversized)}
        for folder, start, end in table.runs():
            while start < end:
                while pending and pending[-1][0] <= start:
                    self._whiteout(pending.pop()[1])
                stop = min(end, pending[-1][0]) if pending else end
                self._write_run(folder, table, start, stop, layer, scan if folder in captured else None)
                start = stop
        while pending:
            self._whiteout(pending.pop()[1])

    def _write_run(
        self, folder: str, table: EntryTable, start: int, stop: int, layer: int, scan: LayerScan | None
    ) -> None:
        """Write rows `start` to `stop` of `table`, all in `folder` (as written), where it resolves.
        No row of them changes where `folder` resolves (a row writes a name within it), so it is
        resolved once. `scan` holds the captured files where any is in `folder`."""
        if self._parents_generation != self._generation or len(self._parents) >= PARENTS_KEPT:
            self._parents.clear()
            self._parents_generation = self._generation
        found = self._parents.get(folder)
        if found is None:
            found = self._parents[folder] = self._directory(folder)
        parent, parent_path = found
        children = parent.children
        assert children is not None
        # Most rows are a file or link, at the path they name: kept as an int where the name is new.
        plain = parent_path == (folder or "/") and layer < 256 and scan is None
        for index, (encoded, code) in enumerate(table.names(start, stop), start):
            new = (
                plain
                and code not in SPECIAL_KINDS
                and not (code == SYMLINK_CODE and encoded in FOLLOWED_ENCODED)
                and encoded
                and children.add_new(encoded, index << 8 | layer)
            )
            if new:
                self._count_name()
                self.listed += 1
                continue
            name = encoded.decode("utf-8", "surrogateescape")
            if not name:
                continue  # the root itself: containerd skips it
            if plain and code == DIR_CODE and name not in children:  # a new directory, as listed
                self._count_name()
                self.listed += 1
                children.add(name, Node(table, index, layer, DIR))
                continue
            written = f"{folder}/{name}"
            text = scan.contents.get(written) if scan else None
            self._write(
                parent,
                parent_path,
                written,
                name,
                KINDS[code],
                table,
                index,
                layer,
                text,
                bool(scan and written in scan.oversized),
            )

    def _whiteout(self, path: str) -> None:
        folder, name = path.rsplit("/", 1)
        node, _ = self._walk(folder, create=True)
        removed = node.children.pop(name) if node is not None and node.children is not None else None
        if removed is not None:
            self._drop(self.as_node(removed))
            self._generation += 1

    def _write(
        self,
        parent: Node,
        parent_path: str,
        written: str,
        name: str,
        kind: str,
        table: EntryTable,
        index: int,
        layer: int,
        text: str | None,
        oversized: bool,
    ) -> None:
        """Write row `index` of `table` (its path as `written`, its last `name` and `kind`) into
        `parent`, the directory its folder resolves to, at `parent_path`."""
        children = parent.children
        assert children is not None
        path = f"{parent_path}/{name}" if parent_path != "/" else f"/{name}"
        source: EntryTable | Entry = table
        if path != written:
            source = table[index]._replace(path=path)
        existing = self.as_node(children.get(name))
        if existing is not None:
            merge = kind == DIR and existing.children is not None
            if merge:
                if existing.source is IMPLIED:
                    self.listed += 1
                existing.source, existing.index, existing.layer = source, index, layer
                return
            self._drop(existing)
            del children[name]
            self._generation += 1
        if kind == HARDLINK:
            source, text, oversized = self._inode(source if isinstance(source, Entry) else table[index])
            kind = source.kind
        self._count_name()
        self.listed += 1
        children.add(
            name,
            index << 8 | layer
            if source is table and kind != DIR and layer < 256
            else Node(source, index, layer, kind),
        )
        if text is not None:
            self.contents[path] = text
        if oversized:
            self.oversized[path] = (source if isinstance(source, Entry) else table[index]).size
        if kind == SYMLINK and name in FOLLOWED:
            self._followed.append(path)

    def _inode(self, entry: Entry) -> tuple[Entry, str | None, bool]:
        """A hardlink shares its target's inode as it is now: later changes to the target's path do
        not reach it. To a symlink it is a symlink; to a missing target it stays as written. Returns
        the entry, its captured text, and whether it was too large to capture."""
        folder, name = entry.link.rsplit("/", 1)
        directory, folder_path = self._walk(folder, create=False)
        target = (
            self.as_node(directory.children.get(name))
            if directory and directory.children is not None
            else None
        )
        if target is None or target.children is not None:
            return entry, None, False
        found = target.entry
        target_path = f"{folder_path.rstrip('/')}/{name}"
        if found.kind == SYMLINK:
            return found._replace(path=entry.path), None, False
        copied = entry._replace(
            size=found.size, mode=found.mode, uid=found.uid, gid=found.gid, link=target_path
        )
        return copied, self.contents.get(target_path), target_path in self.oversized

    def follow_captured_symlinks(self) -> None:
        """A file rules read (a kernel.json, /etc/passwd) that is a symlink reads as its target."""
        for path in dict.fromkeys(self._followed):
            node = self.get(path)
            if node is None or node.kind != SYMLINK:
                continue  # replaced or deleted since
            if CAPTURE.fullmatch(path) or path.rpartition("/")[2] in CAPTURE_NAMES:
                target = self.resolve(path)
                if target in self.contents:
                    self.contents[path] = self.contents[target]
                elif target in self.oversized:
                    self.oversized[path] = self.oversized[target]

    def _drop(self, node: Node) -> None:
        """Forget a node and everything below it."""
        stack = [node]
        while stack:
            current = stack.pop()
            self._names_left += 1
            if current.source is not IMPLIED:
                self.listed -= 1
                path = current.entry.path
                self.contents.pop(path, None)
                self.oversized.pop(path, None)
            if current.children:
                stack.extend(map(self.as_node, current.children.values()))

    @overload
    def as_node(self, child: Node | int) -> Node: ...

    @overload
    def as_node(self, child: Node | int | None) -> Node | None: ...

    def as_node(self, child: Node | int | None) -> Node | None:
        """A child as its Node, made for one kept as an int."""
        if not isinstance(child, int):
            return child
        layer, index = child & 0xFF, child >> 8
        table = self._tables[layer]
        return Node(table, index, layer, table.kind(index))

    def _count_name(self) -> None:
        self._names_left -= 1
        if self._names_left < 0:
            raise LayerLimitExceeded(f"more than {self._max_names} names in the image's filesystem")

    def _directory(self, path: str) -> tuple[Node, str]:
        """The directory `path` resolves to, made (with its parents) where missing; a file in the
        way (where containerd fails the layer) is replaced by a directory. One step from a parent
        already resolved where that step is a plain directory, else walked from the root."""
        up, _, name = path.rpartition("/")
        above = self._parents.get(up) if name else None
        if above is not None:
            children = above[0].children
            assert children is not None
            child = self.as_node(children.get(name))
            if child is None:
                child = implied()
                children.add(name, child)
                self._count_name()
            if child.children is not None:
                return child, f"{above[1]}/{name}" if above[1] != "/" else f"/{name}"
        node, resolved = self._walk(path, create=True, replace=True)
        assert node is not None
        return node, resolved

    def _walk(self, path: str, *, create: bool, replace: bool = False) -> tuple[Node | None, str]:
        """The directory `path` names, following every symlink on the way within the root, as
        containerd's fs.RootPath does; missing directories are made (`create`, as its mkdirAll),
        files in the way replaced (`replace`); else None. Returns the node and its path."""
        pending = [part for part in reversed(path.split("/")) if part and part != "."]
        stack: list[tuple[Node, str]] = [(self.root, "")]
        hops = 0
        while pending:
            part = pending.pop()
            if part == "..":
                if len(stack) > 1:
                    stack.pop()
                continue
            vertex, _ = stack[-1]
            children = vertex.children
            assert children is not None
            child = self.as_node(children.get(part))
            if child is not None and child.kind == SYMLINK:
                hops += 1
                if hops <= MAX_APPLY_HOPS:
                    target = child.link
                    if target.startswith("/"):
                        del stack[1:]
                    pending.extend(p for p in reversed(target.split("/")) if p and p != ".")
                    continue
            if child is None or child.children is None:
                if not (create if child is None else replace):
                    return None, ""
                if child is not None:
                    self._drop(child)
                    self._generation += 1
                child = implied()
                self._count_name()
                children[part] = child
            stack.append((child, part))
        return stack[-1][0], "/" + "/".join(name for _, name in stack[1:])

    def __len__(self) -> int:
        return self.listed

    def get(self, path: str) -> Node | None:
        """The listed node whose final path is `path`."""
        node = self._node(path)
        if node is None or node.source is IMPLIED or node.entry.path != path:
            return None
        return node

    def _node(self, path: str) -> Node | None:
        """The node at `path` as written, following no symlink."""
        vertex = self.root
        for part in path.split("/"):
            if not part:
                continue
            if vertex.children is None or part not in vertex.children:
                return None
            vertex = self.as_node(vertex.children[part])
        return vertex

    def is_dir(self, path: str) -> bool:
        """A directory listed in a layer, or implied by the paths below it."""
        vertex = self._node(path)
        return vertex is not None and vertex.children is not None

    def under(self, root: str) -> Iterator[Node]:
        """Every node at or below `root` as the container sees it: the directories above `root`
        resolved through symlinks, nothing below it followed. In no particular order."""
        folder, _, name = root.rstrip("/").rpartition("/")
        resolved = self.resolve(folder) if folder else "/"
        vertex = self._node(f"{resolved.rstrip('/')}/{name}") if resolved else None
        stack = [vertex] if vertex is not None else []
        while stack:
            current = stack.pop()
            if current.source is not IMPLIED:
                yield current
            if current.children:
                stack.extend(map(self.as_node, current.children.values()))

    def resolve(self, path: str) -> str | None:
        """The path that `path` names once every symlink along it is followed, as the kernel would
        resolve it in the running container; None if it does not exist or loops."""
        pending = [part for part in reversed(path.split("/")) if part and part != "."]
        stack: list[tuple[Node, str]] = [(self.root, "")]
        hops = 0
        while pending:
            part = pending.pop()
            vertex = stack[-1][0]
            if vertex.children is None:
                return None  # a file in the middle of a path, even before ".."
            if part == "..":
                if len(stack) > 1:
                    stack.pop()
                continue
            child = self.as_node(vertex.children.get(part))
            if child is None:
                return None
            if child.kind == SYMLINK:
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                target = child.link
                if target.startswith("/"):
                    del stack[1:]
                pending.extend(p for p in reversed(target.split("/")) if p and p != ".")
                continue
            stack.append((child, part))
        return "/" + "/".join(name for _, name in stack[1:])

    def lookup(self, path: str) -> Node | None:
        """The node `path` resolves to, through symlinks (a hardlink carries its target's inode)."""
        resolved = self.resolve(path)
        return self.get(resolved) if resolved else None


class LayerInfo(BaseModel):
    index: int
    digest: str
    media_type: str
    compression: str = ""
    compressed_size: int
    uncompressed_size: int = 0
    entries: int = 0
    foreign: bool = False  # non-distributable: reported, never fetched
    problem: str | None = None  # why the layer could not be read (the pipeline reports, not raises)
    cached: bool = False


class LayerAnomaly(Anomaly):
    layer: int


class Sizes(BaseModel):
    compressed: int
    uncompressed: int


class Inventory(BaseModel):
    """Everything rules judge: the image's config, its layers and its final filesystem."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    reference: str
    digest: str | None  # of what the reference names: an index, or the image manifest itself
    manifest_digest: str | None  # of the platform's image manifest
    requested_platform: Platform
    platforms_offered: list[Platform] = Field(default_factory=list)  # empty: not an index
    config: ImageConfig
    layers: list[LayerInfo]
    layer_scans: list[LayerScan | None] = Field(exclude=True)  # None: a foreign layer
    files: Filesystem = Field(exclude=True)
    contents: dict[str, str] = Field(default_factory=dict, exclude=True)  # surviving captures
    oversized: dict[str, int] = Field(default_factory=dict, exclude=True)  # too large to capture
    anomalies: list[LayerAnomaly] = Field(default_factory=list)
    sizes: Sizes

    @property
    def platform(self) -> Platform:
        return self.config.platform

    def text(self, path: str) -> str | None:
        """The captured text of the file `path` names, through symlinks and hardlinks."""
        return self.contents.get(self.files.resolve(path) or path)


def merge_layers(
    scans: list[LayerScan | None], max_names: int = ScanLimits.max_names
) -> tuple[Filesystem, dict[str, str]]:
    """Apply layer scans bottom-up. `None` stands for a layer that was not read (foreign)."""
    files = Filesystem(max_names)
    with _no_cycle_collection():
        for index, scan in enumerate(scans):
            if scan is not None:
                files.apply(scan, index)
        files.follow_captured_symlinks()
    return files, files.contents


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """The tree holds no reference cycle (a node knows its children, never its parent): Python's
    cycle collector, run as it grows, would only walk it again and again (a fifth of the time of
    applying a layer of 40,000 entries)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
