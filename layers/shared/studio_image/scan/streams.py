"""Byte streams for layer scanning: a prefetching, digest-verifying reader and decompression.

Reading, hashing and decompressing all release the GIL, so three threads share the cores for one
layer: one reads and hashes, one decompresses (`Ahead`), and the scanning thread parses headers.
"""

from __future__ import annotations

import hashlib
import queue
import threading
import time
from collections.abc import Callable
from typing import Any, BinaryIO, Protocol

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


def _put_until_stopped(into: queue.Queue[Any], stop: threading.Event, item: object) -> None:
    """Put `item` on a bounded queue whose reader may stop reading: give up once `stop` is set."""
    while not stop.is_set():
        try:
            into.put(item, timeout=0.1)
            return
        except queue.Full:
            continue


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
                if self._expected_size is not None and self.bytes_read > self._expected_size:
                    raise DigestMismatch(
                        f"{self.name}: longer than the {self._expected_size} bytes its descriptor says"
                    )
                if self._on_bytes:
                    self._on_bytes(len(chunk))
                self._put(chunk)
        except BaseException as err:  # handed to the reading thread, which raises it
            self._put(err)

    def _put(self, item: object) -> None:
        _put_until_stopped(self._queue, self._stop, item)

    def _next_chunk(self) -> bool:
        if self._done:
            return False
        while True:
            try:
                item = self._queue.get(timeout=0.1)
                break
            except queue.Empty:
                if self._stop.is_set():  # closed while another thread reads (Ahead's, say)
                    self._done = True
                    return False
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
        return bytes(self._take(size))

    def readinto(self, target: bytearray | memoryview) -> int:
        """`read` into `target`, copied once (the decompressor reads this way)."""
        out = self._take(len(target))
        target[: len(out)] = out
        return len(out)

    def _take(self, size: int) -> memoryview:
        """Up to `size` bytes of the current chunk (the next one where it is used up)."""
        if not self._buffer and not self._next_chunk():
            return memoryview(b"")
        out, self._buffer = self._buffer[:size], self._buffer[size:]
        return out

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


def stop_ahead(stream: Readable) -> None:
    """Stop the thread of a stream `decompressed` returned (the digest reader itself has none)."""
    if isinstance(stream, Ahead):
        stream.close()


def sniff_compression(head: bytes) -> str:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def decompressed(reader: VerifyingReader, compression: str) -> Readable:
    """A stream of the layer's tar bytes, decompressed ahead on a thread of its own. Multi-member
    gzip and multi-frame zstd read to the end."""
    if compression == "gzip":
        return Ahead(igzip.GzipFile(fileobj=reader, mode="rb"))  # type: ignore[no-untyped-call]
    if compression == "zstd":
        return Ahead(
            zstandard.ZstdDecompressor().stream_reader(
                ZstdFrames(reader, reader.name),  # type: ignore[arg-type]  # any object with read() will do
                read_size=CHUNK,
                read_across_frames=True,
                closefd=False,
            )
        )
    return reader


class Ahead:
    """Reads `stream` a chunk at a time on a thread, at most `depth` chunks ahead, so that its work
    (decompression, which releases the GIL) overlaps the reader's (tar header parsing). `read`
    returns one chunk, whatever the size asked; an error on the thread is raised by `read`."""

    def __init__(self, stream: Readable, depth: int = 4) -> None:
        self._stream = stream
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._done = False
        self._thread = threading.Thread(target=self._pump, name="decompress", daemon=True)
        self._thread.start()

    def _pump(self) -> None:
        try:
            while not self._stop.is_set():
                chunk = self._stream.read(CHUNK)
                self._put(chunk)
                if not chunk:
                    return
        except BaseException as err:  # handed to the reading thread, which raises it
            self._put(err)

    def _put(self, item: bytes | BaseException) -> None:
        _put_until_stopped(self._queue, self._stop, item)

    def read(self, size: int = -1, /) -> bytes:
        if self._done:
            return b""
        item = self._queue.get()
        if isinstance(item, BaseException):
            self._done = True
            raise item
        self._done = not item
        return item

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


ZSTD_SKIPPABLE = range(0x184D2A50, 0x184D2A60)


class ZstdFrames:
    """Passes a zstd stream through, walking its frame and block headers (not decompressing), so
    a stream that ends inside a frame is an error: zstandard's stream reader ends quietly there,
    where containerd's decoder fails (as a truncated gzip fails here already)."""

    def __init__(self, raw: Readable, name: str) -> None:
        self._read = raw.read
        self._name = name
        self._want = 4  # header bytes the next step needs
        self._header = b""
        self._skip = 0  # payload bytes to pass before the next header
        self._step: Callable[[bytes], None] | None = self._magic
        self._checksum = False

    def read(self, size: int = -1, /) -> bytes:
        data = self._read(size)
        if not data:
            if self._step is not None and (self._skip or self._header or self._step != self._magic):
                raise CorruptLayer(f"{self._name}: zstd stream ends inside a frame (truncated)")
            return data
        view, pos = memoryview(data), 0
        while pos < len(data) and self._step is not None:
            if self._skip:
                taken = min(self._skip, len(data) - pos)
                self._skip -= taken
                pos += taken
                continue
            needed = self._want - len(self._header)
            self._header += bytes(view[pos : pos + needed])
            pos += min(needed, len(data) - pos)
            if len(self._header) == self._want:
                header, self._header = self._header, b""
                self._step(header)
        return data

    def _magic(self, header: bytes) -> None:
        magic = int.from_bytes(header, "little")
        if header == ZSTD_MAGIC:
            self._want, self._step = 1, self._frame_header
        elif magic in ZSTD_SKIPPABLE:
            self._want, self._step = 4, self._skippable
        else:
            self._step = None  # not zstd: the decompressor says so itself

    def _skippable(self, header: bytes) -> None:
        self._skip = int.from_bytes(header, "little")
        self._want, self._step = 4, self._magic

    def _frame_header(self, header: bytes) -> None:
        descriptor = header[0]
        single_segment = descriptor & 0x20
        self._checksum = bool(descriptor & 0x04)
        content_size = (1 if single_segment else 0, 2, 4, 8)[descriptor >> 6]
        dictionary = (0, 1, 2, 4)[descriptor & 0x03]
        self._skip = (0 if single_segment else 1) + dictionary + content_size
        self._want, self._step = 3, self._block

    def _block(self, header: bytes) -> None:
        value = int.from_bytes(header, "little")
        kind, size = (value >> 1) & 0x03, value >> 3
        if kind == 3:
            self._step = None  # a reserved block type: the decompressor reports it
            return
        self._skip = 1 if kind == 1 else size
        if value & 1:  # the frame's last block
            self._skip += 4 if self._checksum else 0
            self._want, self._step = 4, self._magic


# What the decompressors raise on malformed input. (isal's stubs call its error an instance.)
_ISAL_ERROR: type[BaseException] = IsalError  # type: ignore[assignment]
DECOMPRESSION_ERRORS: tuple[type[BaseException], ...] = (
    OSError,
    EOFError,
    _ISAL_ERROR,
    zstandard.ZstdError,
)
