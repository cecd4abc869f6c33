"""Byte streams for layer scanning: a prefetching, digest-verifying reader and decompression.

Reading, hashing and decompressing all release the GIL, so the prefetch thread (read + hash) and
the scanning thread (decompress + parse) use two cores for one layer.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable
from typing import BinaryIO, Protocol

import zstandard
from isal import igzip
from isal.igzip_lib import IsalError

from ..errors import CorruptLayer, DigestMismatch, ImageReadError, LayerDeadlineExceeded, TransientError

CHUNK = 1 << 20
GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
_END = object()


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


class VerifyingReader:
    """Reads a blob ahead on a thread, hashing as it goes; checks digest and size at the end.

    `name` says which blob it is in error messages. At most `depth` chunks wait in memory. Past
    `deadline` (a `time.monotonic()` value) reading stops with `LayerDeadlineExceeded`.
    """

    def __init__(
        self,
        raw: BinaryIO | Readable,
        *,
        name: str,
        digest: str | None,
        size: int | None = None,
        depth: int = 8,
        on_bytes: Callable[[int], None] | None = None,
        deadline: float | None = None,
    ) -> None:
        self.name = name
        self._deadline = deadline
        self._expected = digest
        self._expected_size = size
        algorithm = digest.partition(":")[0] if digest else "sha256"
        self._hash = hashlib.new(algorithm)
        self._queue: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._buffer = memoryview(b"")
        self._done = False
        self.bytes_read = 0
        self._on_bytes = on_bytes
        self._raw = raw
        self._thread = threading.Thread(target=self._pump, name=f"read {name}", daemon=True)
        self._thread.start()

    @property
    def digest(self) -> str:
        return f"{self._hash.name}:{self._hash.hexdigest()}"

    def _pump(self) -> None:
        try:
            while not self._stop.is_set():
                if self._deadline is not None and time.monotonic() > self._deadline:
                    raise LayerDeadlineExceeded(
                        f"{self.name}: not read within the time allowed ({self.bytes_read} bytes so far)"
                    )
                chunk = self._raw.read(CHUNK)
                if not chunk:
                    self._put(_END)
                    return
                self._hash.update(chunk)
                self.bytes_read += len(chunk)
                if self._on_bytes:
                    self._on_bytes(len(chunk))
                self._put(chunk)
        except BaseException as err:  # handed to the reading thread, which raises it
            self._put(err)

    def _put(self, item: object) -> None:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def _next_chunk(self) -> bool:
        if self._done:
            return False
        item = self._queue.get()
        if item is _END:
            self._done = True
            self._verify()
            return False
        if isinstance(item, BaseException):
            self._done = True
            if isinstance(item, ImageReadError | TransientError):
                raise item
            raise CorruptLayer(f"{self.name}: reading failed: {item}") from item
        assert isinstance(item, bytes)
        self._buffer = memoryview(item)
        return True

    def read(self, size: int = -1, /) -> bytes:
        if size is None or size < 0:
            parts = [bytes(self._buffer)]
            self._buffer = memoryview(b"")
            while self._next_chunk():
                parts.append(bytes(self._buffer))
            self._buffer = memoryview(b"")
            return b"".join(parts)
        if not self._buffer and not self._next_chunk():
            return b""
        out = self._buffer[:size]
        self._buffer = self._buffer[size:]
        return bytes(out)

    def readinto(self, target: bytearray | memoryview) -> int:
        data = self.read(len(target))
        target[: len(data)] = data
        return len(data)

    def readable(self) -> bool:
        return True

    def peek(self, size: int) -> bytes:
        """The next bytes without consuming them (at most one chunk's worth)."""
        if not self._buffer:
            self._next_chunk()
        return bytes(self._buffer[:size])

    def drain(self) -> None:
        """Read to the end, so the digest is checked even where a decompressor stopped early."""
        self._buffer = memoryview(b"")
        while self._next_chunk():
            self._buffer = memoryview(b"")

    def _verify(self) -> None:
        expected_size = self._expected_size
        if expected_size is not None and self.bytes_read < expected_size:
            raise CorruptLayer(f"{self.name}: truncated: {self.bytes_read} of {expected_size} bytes")
        if self._expected and self.digest != self._expected:
            raise DigestMismatch(f"{self.name}: content hashes to {self.digest}, not {self._expected}")
        if expected_size is not None and self.bytes_read != expected_size:
            raise DigestMismatch(f"{self.name}: {self.bytes_read} bytes, descriptor says {expected_size}")

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        close = getattr(self._raw, "close", None)
        if close:
            close()


def sniff_compression(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def decompressed(reader: VerifyingReader, compression: str) -> Readable:
    """A stream of the layer's tar bytes. Multi-member gzip and multi-frame zstd read to the end."""
    if compression == "gzip":
        return igzip.GzipFile(fileobj=reader, mode="rb")  # type: ignore[no-untyped-call]
    if compression == "zstd":
        return zstandard.ZstdDecompressor().stream_reader(
            reader,  # type: ignore[arg-type]  # any object with read() will do
            read_size=CHUNK,
            read_across_frames=True,
            closefd=False,
        )
    return reader


# What the decompressors raise on malformed input. (isal's stubs call its error an instance.)
_ISAL_ERROR: type[BaseException] = IsalError  # type: ignore[assignment]
DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    _ISAL_ERROR,
    zstandard.ZstdError,
)
