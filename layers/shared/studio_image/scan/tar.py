"""A streaming tar header parser: ustar, GNU long names and links, PAX headers. Never extracts.

File data is skipped unless the path is one of the small files rules read (`CAPTURE`), whose text
is kept up to `ScanLimits.capture_bytes`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import CorruptLayer, LayerLimitExceeded
from .models import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, SYMLINK, Anomaly, Entry
from .paths import normalize, parent
from .streams import CHUNK, DECOMPRESSION_ERRORS, Readable

BLOCK_SIZE = 512
ZERO_BLOCK = bytes(BLOCK_SIZE)
WHITEOUT_PREFIX = ".wh."
OPAQUE_MARKER = ".wh..wh..opq"

# Small files whose content rules read: passwd and group, kernel specs, version files.
CAPTURE = re.compile(
    r"/etc/(passwd|group|os-release)"
    r"|/usr/lib/os-release"
    r"|/usr/lib/rstudio-server/VERSION"
    r"|(/usr/lib/jvm|/opt/java)/[^/]+/release"
    r"|.*/kernels/[^/]+/kernel\.json"  # under any Jupyter data directory, JUPYTER_PATH's too
)

KINDS = {
    b"0": FILE,
    b"\0": FILE,
    b"7": FILE,
    b"S": FILE,  # GNU sparse
    b"1": HARDLINK,
    b"2": SYMLINK,
    b"3": CHAR,
    b"4": BLOCK,
    b"5": DIR,
    b"6": FIFO,
}
DATA_KINDS = frozenset({b"0", b"\0", b"7", b"S"})  # as tarfile: only these (and unknowns) carry data


@dataclass(frozen=True)
class ScanLimits:
    """Bounds that keep a hostile layer from exhausting memory or time."""

    max_uncompressed: int = 64 << 30
    max_entries: int = 2_000_000
    max_header_bytes: int = 1 << 20  # one PAX header or GNU long name
    capture_bytes: int = 64 << 10


@dataclass
class TarContents:
    entries: list[Entry] = field(default_factory=list)
    whiteouts: list[str] = field(default_factory=list)
    opaque_dirs: list[str] = field(default_factory=list)
    contents: dict[str, str] = field(default_factory=dict)
    anomalies: list[Anomaly] = field(default_factory=list)
    size: int = 0  # uncompressed bytes, to the end of the stream


class _Feed:
    """Exact reads and skips over a decompressed stream, in bounded chunks."""

    def __init__(self, stream: Readable, name: str, limit: int) -> None:
        self._read = stream.read
        self._name = name
        self._limit = limit
        self._buf = b""
        self._pos = 0
        self.total = 0  # bytes pulled from the stream

    def _pull(self) -> bytes:
        try:
            chunk = self._read(CHUNK)
        except DECOMPRESSION_ERRORS as err:
            raise CorruptLayer(f"{self._name}: bad compressed data: {err}") from err
        self.total += len(chunk)
        if self.total > self._limit:
            raise LayerLimitExceeded(
                f"{self._name}: more than {self._limit} bytes uncompressed (a decompression bomb?)"
            )
        return chunk

    def take(self, n: int) -> bytes:
        end = self._pos + n
        if end <= len(self._buf):
            out = self._buf[self._pos : end]
            self._pos = end
            return out
        parts = [self._buf[self._pos :]]
        have = len(parts[0])
        while have < n:
            chunk = self._pull()
            if not chunk:
                raise CorruptLayer(f"{self._name}: truncated tar stream")
            parts.append(chunk)
            have += len(chunk)
        joined = b"".join(parts)
        self._buf, self._pos = joined, n
        return joined[:n]

    def skip(self, n: int) -> None:
        self._pos += n
        while self._pos > len(self._buf):
            self._pos -= len(self._buf)
            self._buf = self._pull()
            if not self._buf:
                raise CorruptLayer(f"{self._name}: truncated tar stream")

    def at_end(self) -> bool:
        if self._pos < len(self._buf):
            return False
        self._buf, self._pos = self._pull(), 0
        return not self._buf

    def drain(self) -> None:
        self._buf, self._pos = b"", 0
        while self._pull():
            pass


def _number(field: bytes, name: str) -> int:
    if field[:1] and field[0] & 0x80:  # GNU base-256, for values octal cannot hold
        if field[0] == 0xFF:
            raise CorruptLayer(f"{name}: negative number in tar header")
        return int.from_bytes(field[1:], "big") | ((field[0] & 0x3F) << (8 * (len(field) - 1)))
    text = field.split(b"\0", 1)[0].strip(b" ")
    try:
        return int(text, 8) if text else 0
    except ValueError as err:
        raise CorruptLayer(f"{name}: bad number {text!r} in tar header") from err


def _pax_number(fields: dict[str, str], key: str, default: int, name: str) -> int:
    if key not in fields:
        return default
    try:
        return int(fields[key])
    except ValueError as err:
        raise CorruptLayer(f"{name}: bad PAX {key} {fields[key]!r}") from err


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


def _pax_records(data: bytes, name: str) -> dict[str, str]:
    records: dict[str, str] = {}
    pos = 0
    while pos < len(data) and data[pos] != 0:
        space = data.find(b" ", pos)
        try:
            length = int(data[pos:space])
        except ValueError as err:
            raise CorruptLayer(f"{name}: malformed PAX header") from err
        if space < 0 or length <= 0 or pos + length > len(data):
            raise CorruptLayer(f"{name}: malformed PAX header")
        key, _, value = data[space + 1 : pos + length - 1].partition(b"=")
        records[key.decode("utf-8", "surrogateescape")] = value.decode("utf-8", "surrogateescape")
        pos += length
    return records


def _padded(size: int) -> int:
    return (size + BLOCK_SIZE - 1) // BLOCK_SIZE * BLOCK_SIZE


def scan_tar(stream: Readable, name: str, limits: ScanLimits) -> TarContents:
    """Read a tar stream to its end and return what it holds. `name` labels error messages."""
    feed = _Feed(stream, name, limits.max_uncompressed)
    out = TarContents()
    global_pax: dict[str, str] = {}
    pax: dict[str, str] = {}
    long_name: str | None = None
    long_link: str | None = None

    while True:
        if feed.at_end():  # tar without its two zero blocks: lenient, as GNU tar is
            break
        header = feed.take(BLOCK_SIZE)
        if header == ZERO_BLOCK:
            break
        stored = _number(header[148:156], name)
        if stored != sum(header) - sum(header[148:156]) + 256:
            raise CorruptLayer(f"{name}: tar header checksum mismatch at byte {feed.total}")
        flag = header[156:157]
        size = _number(header[124:136], name)

        if flag in (b"x", b"g", b"L", b"K"):
            if size > limits.max_header_bytes:
                raise LayerLimitExceeded(f"{name}: a {size}-byte tar extension header")
            data = feed.take(_padded(size))[:size]
            if flag == b"x":
                pax.update(_pax_records(data, name))
            elif flag == b"g":
                global_pax.update(_pax_records(data, name))
            elif flag == b"L":
                long_name = _text(data)
            else:
                long_link = _text(data)
            continue

        fields = {**global_pax, **pax} if global_pax else pax
        raw_name = fields.get("path") or long_name
        if raw_name is None:
            raw_name = _text(header[0:100])
            if header[257:263] == b"ustar\x00":  # POSIX ustar: the prefix field extends the name
                prefix = _text(header[345:500])
                if prefix:
                    raw_name = prefix + "/" + raw_name
        raw_name = fields.get("GNU.sparse.name", raw_name)
        link = fields.get("linkpath") or long_link or _text(header[157:257])
        size = _pax_number(fields, "size", size, name)
        data_size = _padded(size) if flag in DATA_KINDS or flag not in KINDS else 0
        real_size = _number(header[483:495], name) if flag == b"S" else size
        real_size = _pax_number(fields, "GNU.sparse.realsize", real_size, name)
        uid = _pax_number(fields, "uid", _number(header[108:116], name), name)
        gid = _pax_number(fields, "gid", _number(header[116:124], name), name)
        mode = _number(header[100:108], name) & 0o7777
        pax, long_name, long_link = {}, None, None

        path, escaped = normalize(raw_name)
        if escaped:
            out.anomalies.append(
                Anomaly(kind="path-escapes-root", path=raw_name, detail=f"applied as {path}")
            )
        base = path.rpartition("/")[2]
        kind = KINDS.get(flag)
        if kind is None:
            out.anomalies.append(
                Anomaly(kind="unknown-tar-type", path=path, detail=f"tar type {flag!r} skipped")
            )
            feed.skip(data_size)
            continue
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_MARKER:
                out.opaque_dirs.append(parent(path))
            elif not base.startswith(".wh..wh."):  # other ".wh..wh." names are aufs metadata
                out.whiteouts.append(parent(path).rstrip("/") + "/" + base[len(WHITEOUT_PREFIX) :])
            feed.skip(data_size)
            continue

        if kind == HARDLINK:
            link = normalize(link)[0]
        if kind == FILE and real_size <= limits.capture_bytes and CAPTURE.fullmatch(path):
            out.contents[path] = feed.take(data_size)[:size].decode("utf-8", "replace")
        else:
            feed.skip(data_size)
        out.entries.append(Entry(path, kind, real_size, mode, uid, gid, link))
        if len(out.entries) > limits.max_entries:
            raise LayerLimitExceeded(f"{name}: more than {limits.max_entries} entries")

    feed.drain()  # the end-of-archive padding, and whatever follows it, to the stream's end
    out.size = feed.total
    return out
