"""Layer scan caches, keyed by layer digest: a layer already scanned is never downloaded again."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Protocol

import zstandard
from pydantic import ValidationError
from pydantic_core import PydanticSerializationError

from .scan.layer import SCAN_FORMAT
from .scan.models import LayerScan


def cache_key(digest: str) -> str:
    return f"v{SCAN_FORMAT}-{digest.replace(':', '-')}"


def encode_scan(scan: LayerScan) -> bytes:
    """JSON, zstd-compressed. Names that are not UTF-8 (surrogate escapes) go through the json
    module, whose \\udcNN escapes read back to the same names."""
    try:
        text = scan.model_dump_json()
    except PydanticSerializationError:
        text = json.dumps(scan.model_dump())
    return zstandard.ZstdCompressor(level=3).compress(text.encode())


def decode_scan(data: bytes) -> LayerScan | None:
    """The scan `encode_scan` wrote; None for damaged data, which then reads as a cache miss."""
    try:
        text = zstandard.ZstdDecompressor().decompress(data)
        if b"\\udc" in text:
            return LayerScan.model_validate(json.loads(text))
        return LayerScan.model_validate_json(text)
    except (zstandard.ZstdError, ValidationError, ValueError):
        return None


class LayerCache(Protocol):
    def get(self, digest: str) -> LayerScan | None: ...

    def put(self, scan: LayerScan) -> None: ...


class NullCache:
    def get(self, digest: str) -> LayerScan | None:
        return None

    def put(self, scan: LayerScan) -> None:
        return None


class DirectoryCache:
    """One zstd-compressed JSON file per layer scan. A damaged file reads as a miss."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, digest: str) -> Path:
        return self.root / f"{cache_key(digest)}.json.zst"

    def get(self, digest: str) -> LayerScan | None:
        try:
            return decode_scan(self._path(digest).read_bytes())
        except OSError:
            return None

    def put(self, scan: LayerScan) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        data = encode_scan(scan)
        fd, tmp = tempfile.mkstemp(dir=self.root, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, self._path(scan.digest))


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "studio-image" / "layers"
