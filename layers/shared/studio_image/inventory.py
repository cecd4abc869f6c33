"""The image inventory: layer scans applied in order into the final filesystem."""

from __future__ import annotations

from collections.abc import Iterator
from typing import NamedTuple

from pydantic import BaseModel, ConfigDict, Field

from .oci import ImageConfig, Platform
from .scan.models import DIR, HARDLINK, SYMLINK, Anomaly, Entry, LayerScan
from .scan.paths import parent

MAX_SYMLINK_HOPS = 40  # as Linux's path resolution allows


class Node(NamedTuple):
    entry: Entry
    layer: int  # index of the layer that wrote it


class Filesystem:
    """The final filesystem: whiteouts delete, opaque markers clear, later entries replace."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}
        self._children: dict[str, set[str]] = {}  # every known directory path -> child paths

    def apply(self, scan: LayerScan, layer: int) -> None:
        # A layer's whiteouts hide only what lower layers wrote, so they go first.
        for directory in scan.opaque_dirs:
            self._remove_below(directory)
        for path in scan.whiteouts:
            self._remove(path)
        nodes, children = self.nodes, self._children
        for entry in scan.entries:
            if entry.path not in nodes:
                self._link(entry.path)
            if entry.kind != DIR and entry.path in children:  # over a directory, listed or implied
                self._remove_below(entry.path)
            nodes[entry.path] = Node(entry, layer)

    def _link(self, path: str) -> None:
        while path != "/":
            up = parent(path)
            siblings = self._children.setdefault(up, set())
            if path in siblings:
                return
            siblings.add(path)
            if len(siblings) > 1:  # `up` had children before, so it is linked already
                return
            path = up

    def _remove(self, path: str) -> None:
        self.nodes.pop(path, None)
        self._children.get(parent(path), set()).discard(path)
        self._remove_below(path)

    def _remove_below(self, path: str) -> None:
        stack = [path]
        while stack:
            for child in self._children.pop(stack.pop(), ()):
                self.nodes.pop(child, None)
                stack.append(child)

    def __len__(self) -> int:
        return len(self.nodes)

    def get(self, path: str) -> Node | None:
        return self.nodes.get(path)

    def is_dir(self, path: str) -> bool:
        """A directory listed in a layer, or implied by the paths below it."""
        node = self.nodes.get(path)
        return node.entry.kind == DIR if node else path in self._children

    def under(self, root: str) -> Iterator[Node]:
        """Every node at or below `root` (not following symlinks), in no particular order."""
        if root in self.nodes:
            yield self.nodes[root]
        stack = [root]
        while stack:
            for child in self._children.get(stack.pop(), ()):
                if child in self.nodes:
                    yield self.nodes[child]
                stack.append(child)

    def resolve(self, path: str) -> str | None:
        """The path that `path` names once every symlink along it is followed, as the kernel would
        resolve it in the running container; None if it does not exist or loops."""
        pending = [part for part in path.split("/") if part]
        current = "/"
        hops = 0
        while pending:
            part = pending.pop(0)
            if part == "..":
                current = parent(current)
                continue
            candidate = f"{current.rstrip('/')}/{part}"
            node = self.nodes.get(candidate)
            if node is not None and node.entry.kind == SYMLINK:
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                target = node.entry.link
                current = "/" if target.startswith("/") else current
                pending[:0] = [p for p in target.split("/") if p and p != "."]
                continue
            if node is None and candidate not in self._children:
                return None
            if pending and not self.is_dir(candidate):
                return None  # a file in the middle of a path
            current = candidate
        return current

    def lookup(self, path: str) -> Node | None:
        """The node `path` resolves to, through symlinks and to a hardlink's target."""
        resolved = self.resolve(path)
        node = self.nodes.get(resolved) if resolved else None
        if node is not None and node.entry.kind == HARDLINK:
            node = self.nodes.get(node.entry.link, node)
        return node


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
    anomalies: list[LayerAnomaly] = Field(default_factory=list)
    sizes: Sizes

    @property
    def platform(self) -> Platform:
        return self.config.platform


def merge_layers(scans: list[LayerScan | None]) -> tuple[Filesystem, dict[str, str]]:
    """Apply layer scans bottom-up. `None` stands for a layer that was not read (foreign)."""
    files = Filesystem()
    for index, scan in enumerate(scans):
        if scan is not None:
            files.apply(scan, index)
    contents: dict[str, str] = {}
    for index, scan in enumerate(scans):
        for path, text in (scan.contents if scan else {}).items():
            node = files.get(path)
            if node is not None and node.layer == index:
                contents[path] = text
    return files, contents
