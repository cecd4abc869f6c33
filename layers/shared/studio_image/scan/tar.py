"""A streaming tar header parser that decides every header question as Go's `archive/tar` does
(the reader containerd unpacks layers with): ustar, PAX, GNU, star and V7 headers, GNU long
names and links, and the sparse formats (old GNU, PAX 0.0, 0.1 and 1.0). Never extracts.

File data is skipped unless the path is one of the small files rules read (`CAPTURE`), whose text
is kept up to `ScanLimits.capture_bytes`, or a package database the SBOM reads (`packages.py`).
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field

from ..errors import CorruptLayer, LayerLimitExceeded
from ..limits import ScanLimits
from .models import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, KIND_CODES, SYMLINK, Anomaly, EntryTable
from .packages import capture_size, capture_text, maybe_package
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

# Also kept wherever they are, as /etc/passwd or /etc/group may be a link to one.
CAPTURE_NAMES = frozenset({"passwd", "group"})
# The last name of every path CAPTURE matches: most paths are ruled out without the regex.
CAPTURE_BASES = frozenset({"passwd", "group", "os-release", "VERSION", "release", "kernel.json"})

KINDS = {
    flag: (kind, KIND_CODES[kind])
    for flag, kind in {
        b"0": FILE,
        b"7": FILE,  # contiguous file: Go reads it as a file (containerd refuses it, see UNAPPLIED)
        b"S": FILE,  # old GNU sparse
        b"1": HARDLINK,
        b"2": SYMLINK,
        b"3": CHAR,
        b"4": BLOCK,
        b"5": DIR,
        b"6": FIFO,
    }.items()
}
HEADER_ONLY = frozenset({b"1", b"2", b"3", b"4", b"5", b"6"})  # Go's isHeaderOnlyType: no data
UNAPPLIED = frozenset({b"7", b"S"})  # read by Go, but containerd's apply has no case for them
USTAR_MAGIC = b"ustar\x00"
GNU_MAGIC = b"ustar  \x00"  # magic "ustar " and version " \0"
STAR_TRAILER = b"tar\x00"
OCTAL_DIGITS = b"01234567"
DECIMAL = re.compile(r"[+-]?[0-9]+")  # Go's strconv.ParseInt(s, 10, 64) syntax
INT64 = 1 << 63
# The usual numeric fields (mode, uid, gid, size, mtime, checksum): octal digits, each ended by a
# NUL or a space (the checksum by NUL and space). Anything else goes through `_number`.
USUAL_NUMBERS = re.compile(
    rb"([0-7]{7})[\0 ]([0-7]{7})[\0 ]([0-7]{7})[\0 ]([0-7]{11})[\0 ][0-7]{11}[\0 ]([0-7]{6})\0 "
)
MODES: dict[int, int] = {}
SHARED_IDS = 4096  # distinct owner IDs a layer keeps one int object of (most layers have a few)


@dataclass
class TarContents:
    entries: EntryTable = field(default_factory=EntryTable)
    whiteouts: list[str] = field(default_factory=list)
    whiteout_positions: list[int] = field(default_factory=list)  # entries before each whiteout
    opaque_dirs: list[str] = field(default_factory=list)
    contents: dict[str, str] = field(default_factory=dict)
    oversized: dict[str, int] = field(default_factory=dict)  # files rules read, too large to keep
    anomalies: list[Anomaly] = field(default_factory=list)
    size: int = 0  # uncompressed bytes, to the end of the stream
    captured_bytes: int = 0  # of the files rules read
    package_bytes: int = 0  # captured for the SBOM
    members: int = 0  # every member read, whether applied or not
    whiteout_chars: int = 0  # of the paths its whiteouts delete
    anomalies_omitted: int = 0  # past the limit

    def note(self, anomaly: Anomaly, limits: ScanLimits) -> None:
        """Keep `anomaly`, unless the layer already holds as many as the limit: a layer of a
        million odd members must not cost a million findings."""
        if len(self.anomalies) < limits.max_anomalies:
            self.anomalies.append(anomaly)
        else:
            self.anomalies_omitted += 1


class _Bad(Exception):
    """A header Go's reader refuses (ErrHeader, ErrUnexpectedEOF); becomes CorruptLayer."""


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

    @property
    def offset(self) -> int:
        return self.total - len(self._buf) + self._pos

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
                raise _Bad("truncated tar stream")
            parts.append(chunk)
            have += len(chunk)
        joined = b"".join(parts)
        self._buf, self._pos = joined, n
        return joined[:n]

    def skip(self, n: int) -> int:
        """Skip up to n bytes; return how many the stream lacked (0 unless it ended)."""
        self._pos += n
        while self._pos > len(self._buf):
            self._pos -= len(self._buf)
            self._buf = self._pull()
            if not self._buf:
                missing, self._pos = self._pos, 0
                return missing
        return 0

    def block(self) -> bytes | None:
        """The next 512-byte block; None where the stream ends exactly before it."""
        if self._pos == len(self._buf):
            self._buf, self._pos = self._pull(), 0
            if not self._buf:
                return None
        return self.take(BLOCK_SIZE)

    def drain(self) -> None:
        self._buf, self._pos = b"", 0
        while self._pull():
            pass


def _number(field: bytes) -> int:
    """A numeric header field as Go's parseNumeric reads it: base-256 (negative too) or octal
    padded with NULs and spaces on either side."""
    if field[0] & 0x80:
        negative = field[0] & 0x40
        data = bytes(c ^ 0xFF for c in field) if negative else field
        value = int.from_bytes(data, "big") & ((1 << (8 * len(field) - 1)) - 1)
        if value >= INT64:
            raise _Bad("base-256 number overflows 64 bits")
        return ~value if negative else value
    digits = field[:-1]
    if field[-1] in (0, 32) and digits.isdigit():  # the usual form: digits, then a NUL or a space
        try:
            return int(digits, 8)
        except ValueError:
            raise _Bad(f"bad number {digits!r} in tar header") from None
    text = field.strip(b" \x00").split(b"\x00", 1)[0]
    if not text:
        return 0
    if text.translate(None, OCTAL_DIGITS):
        raise _Bad(f"bad number {text!r} in tar header")
    return int(text, 8)


def _unsigned_checksum(header: bytes) -> int:
    """The header's bytes summed, its checksum field as spaces. Adler-32's low half is 1 plus the
    sum of its input modulo 65521, exact for at most 257 bytes: C sums them, three parts apiece."""
    adler32 = zlib.adler32
    low = adler32(header[:148]) & 0xFFFF, adler32(header[156:356]) & 0xFFFF, adler32(header[356:]) & 0xFFFF
    return low[0] + low[1] + low[2] - 3 + 8 * 0x20


def _signed_checksum(header: bytes) -> int:
    """The checksum some old tars wrote, summing bytes as signed chars; Go accepts either."""
    return sum(b - 256 if b >= 0x80 else b for b in header[:148] + header[156:]) + 256


ZERO_DEVICES = frozenset({bytes(16), b"0000000\x00" * 2, b"0000000 " * 2, b"000000 \x00" * 2})


def _decimal(text: str, what: str) -> int:
    if not DECIMAL.fullmatch(text) or not -INT64 <= int(text) < INT64:
        raise _Bad(f"bad PAX {what} {text[:40]!r}")
    return int(text)


def _pax_time(text: str) -> None:
    seconds, _, fraction = text.partition(".")
    _decimal(seconds, "time")
    if fraction.strip("0123456789"):
        raise _Bad(f"bad PAX time {text[:40]!r}")


def _text(field: bytes) -> str:
    return field.split(b"\0", 1)[0].decode("utf-8", "surrogateescape")


class _Budget:
    """What one layer has spent of the per-layer counts in ScanLimits."""

    def __init__(self, limits: ScanLimits) -> None:
        self.pax_records = limits.max_pax_records
        self.sparse_entries = limits.max_sparse_entries

    def spend_pax(self, count: int) -> None:
        self.pax_records -= count
        if self.pax_records < 0:
            raise LayerLimitExceeded("more PAX records than the limit (a header flood?)")

    def spend_sparse(self) -> None:
        self.sparse_entries -= 1
        if self.sparse_entries < 0:
            raise LayerLimitExceeded("more sparse map entries than the limit (an endless map?)")


def _pax_records(data: bytes, limits: ScanLimits, budget: _Budget) -> dict[str, str]:
    """PAX records as Go's parsePAX reads them; GNU sparse 0.0 offset/numbytes pairs are joined
    into GNU.sparse.map, as Go does."""
    records: dict[str, str] = {}
    sparse: list[str] = []
    pos = 0
    while pos < len(data):
        space = data.find(b" ", pos)
        digits = data[pos:space]
        if space < 0 or not DECIMAL.fullmatch(digits.decode("latin-1")):
            raise _Bad("malformed PAX record")
        length = int(digits)
        end = pos + length
        if length < 5 or end > len(data) or end <= space + 1 or data[end - 1] != 0x0A:
            raise _Bad("malformed PAX record")
        if length > limits.max_pax_record:
            raise LayerLimitExceeded(f"a {length}-byte PAX record")
        raw_key, equals, raw_value = data[space + 1 : end - 1].partition(b"=")
        key = raw_key.decode("utf-8", "surrogateescape")
        value = raw_value.decode("utf-8", "surrogateescape")
        nul = "\0" in value if key in ("path", "linkpath", "uname", "gname") else "\0" in key
        if not equals or not key or nul:
            raise _Bad(f"invalid PAX record {key[:40]!r}")
        if key in ("GNU.sparse.offset", "GNU.sparse.numbytes"):
            if (len(sparse) % 2 == 0) != (key == "GNU.sparse.offset") or "," in value:
                raise _Bad("GNU sparse 0.0 records out of order")
            sparse.append(value)
        else:
            records[key] = value
        pos = end
        budget.spend_pax(1)
    if sparse:
        records["GNU.sparse.map"] = ",".join(sparse)
    return records


class _SparseMap:
    """Checks a sparse map entry by entry, as Go's validateSparseEntries, in constant memory; `data`
    totals the stored fragments, which containerd copies and must match the stored bytes."""

    def __init__(self, real_size: int, budget: _Budget) -> None:
        self.real_size = real_size
        self.budget = budget
        self.end = 0
        self.data = 0

    def add(self, offset: int, length: int) -> None:
        self.budget.spend_sparse()
        if offset < 0 or length < 0 or offset + length >= INT64:
            raise _Bad("negative or overflowing sparse entry")
        if offset + length > self.real_size or self.end > offset:
            raise _Bad("sparse entries out of order or past the file's size")
        self.end = offset + length
        self.data += length


def _old_gnu_sparse(feed: _Feed, header: bytes, real_size: int, budget: _Budget) -> _SparseMap:
    sparse = _SparseMap(real_size, budget)
    area, count, extended = header[386:482], 4, header[482]
    while True:
        for i in range(count):
            entry = area[24 * i : 24 * i + 24]
            if entry[0] == 0:
                break
            sparse.add(_number(entry[:12]), _number(entry[12:]))
        if not extended:
            return sparse
        budget.spend_sparse()  # an extension block counts, even an empty one
        block = feed.take(BLOCK_SIZE)  # an extension block sits between header and data
        area, count, extended = block[:504], 21, block[504]


def _pax_sparse_0x(records: dict[str, str], real_size: int, budget: _Budget) -> _SparseMap:
    count = _decimal(records.get("GNU.sparse.numblocks", ""), "GNU.sparse.numblocks")
    numbers = records.get("GNU.sparse.map", "")
    fields = numbers.split(",") if numbers else []
    if count < 0 or len(fields) != 2 * count:
        raise _Bad("GNU sparse map does not hold numblocks entries")
    sparse = _SparseMap(real_size, budget)
    for i in range(0, len(fields), 2):
        sparse.add(_decimal(fields[i], "sparse offset"), _decimal(fields[i + 1], "sparse length"))
    return sparse


def _pax_sparse_1x0(
    feed: _Feed, real_size: int, stored: int, limit: int, budget: _Budget
) -> tuple[_SparseMap, int]:
    """The 1.0 map: decimal lines (a count, then offset and length pairs) at the start of the
    data, in whole blocks. Returns the map and the bytes of it read."""
    sparse = _SparseMap(real_size, budget)
    wanted, seen, offset, used = 1, 0, 0, 0
    partial = bytearray()
    while seen < wanted:
        if used + BLOCK_SIZE > stored:
            raise _Bad("GNU sparse 1.0 map runs past the entry's data")
        block = feed.take(BLOCK_SIZE)
        used += BLOCK_SIZE
        start = 0
        while seen < wanted and (newline := block.find(b"\n", start)) >= 0:
            number = _decimal((bytes(partial) + block[start:newline]).decode("latin-1"), "GNU sparse map")
            partial.clear()
            start = newline + 1
            if seen == 0:
                if number < 0:
                    raise _Bad("negative GNU sparse entry count")
                wanted = 1 + 2 * number
            elif seen % 2:
                offset = number
            else:
                sparse.add(offset, number)
            seen += 1
        if seen < wanted:
            partial += block[start:]
            if len(partial) > limit:
                raise LayerLimitExceeded(f"a GNU sparse map line over {limit} bytes")
    return sparse, used


def _pad(size: int) -> int:
    return -size % BLOCK_SIZE


def scan_tar(stream: Readable, name: str, limits: ScanLimits) -> TarContents:
    """Read a tar stream to its end and return what it holds. `name` labels error messages."""
    feed = _Feed(stream, name, limits.max_uncompressed)
    try:
        return _scan(feed, name, limits)
    except _Bad as err:
        raise CorruptLayer(f"{name}: {err} (near byte {feed.offset} of the tar)") from None
    except LayerLimitExceeded as err:
        message = str(err)
        raise LayerLimitExceeded(message if message.startswith(name) else f"{name}: {message}") from None


def _scan(feed: _Feed, name: str, limits: ScanLimits) -> TarContents:
    out = TarContents()
    budget = _Budget(limits)
    ids: dict[int, int] = {}
    pax: dict[str, str] = {}
    long_name = long_link = ""

    while True:
        header = feed.block()
        if header is None:  # no end-of-archive marker: Go reads this as a clean end
            break
        if header == ZERO_BLOCK:
            second = feed.block()
            if second is None or second == ZERO_BLOCK:
                break
            raise _Bad("a zero block followed by a header")
        stored = header[148:156]
        unsigned = _unsigned_checksum(header)
        usual = USUAL_NUMBERS.match(header, 100)
        if usual:
            numbers = usual.groups()
            mode, uid, gid = int(numbers[0], 8), int(numbers[1], 8), int(numbers[2], 8)
            size, checksum = int(numbers[3], 8), int(numbers[4], 8)
        else:
            if stored[0] & 0x80:
                raise _Bad("tar header checksum is not octal")
            checksum = _number(stored)
            size = _number(header[124:136])
            uid = _number(header[108:116])
            gid = _number(header[116:124])
            mode = _number(header[100:108])
            _number(header[136:148])  # mtime: Go refuses a header whose mtime does not parse
        if checksum != unsigned and checksum != _signed_checksum(header):
            raise _Bad("tar header checksum mismatch")
        flag = header[156:157]
        magic = header[257:265]
        prefix = ""
        ustar = magic[:6] == USTAR_MAGIC
        if (ustar or magic == GNU_MAGIC) and header[329:345] not in ZERO_DEVICES:
            _number(header[329:337]), _number(header[337:345])  # Go refuses devices that do not parse
        if ustar:
            if header[508:512] == STAR_TRAILER:
                prefix = _text(header[345:476])
                _number(header[476:488]), _number(header[488:500])
            elif header[345]:
                prefix = _text(header[345:500])
        elif magic == GNU_MAGIC:
            try:  # Go 1.7 wrote ustar prefixes into GNU headers; Go reads them where times fail
                for times in (header[345:357], header[357:369]):
                    if times[0]:
                        _number(times)
            except _Bad:
                text = _text(header[345:500])
                prefix = text if text.isascii() else ""
        if size < 0 and flag not in HEADER_ONLY:
            raise _Bad("negative size")

        if flag in (b"x", b"g", b"L", b"K"):
            if size > limits.max_header_bytes:
                raise LayerLimitExceeded(f"a {size}-byte tar extension header")
            data = feed.take(size)
            feed.skip(_pad(size))
            if flag == b"x":
                pax = _pax_records(data, limits, budget)  # a later PAX header replaces an earlier one
            elif flag == b"g":  # returned alone by Go and ignored by containerd: ends pending state
                _pax_records(data, limits, budget)
                pax, long_name, long_link = {}, "", ""
            elif flag == b"L":
                long_name = _text(data)
            else:
                long_link = _text(data)
            continue

        raw_name = header[0:100].split(b"\0", 1)[0].decode("utf-8", "surrogateescape")  # _text, inline
        if prefix:
            raw_name = prefix + "/" + raw_name
        link = _text(header[157:257]) if header[157] else ""
        sparse_fields = False
        for key, value in pax.items():
            if not value:
                continue  # an empty record keeps the header's value
            if key == "path":
                raw_name = value
            elif key == "linkpath":
                link = value
            elif key == "uid":
                uid = _decimal(value, key)
            elif key == "gid":
                gid = _decimal(value, key)
            elif key == "size":
                size = _decimal(value, key)
            elif key in ("mtime", "atime", "ctime"):
                _pax_time(value)
            elif key.startswith("GNU.sparse."):
                sparse_fields = True
        if long_name:
            raw_name = long_name
        if long_link:
            link = long_link
        if flag == b"\0":  # V7 and pre-POSIX: a regular file, or a directory by its trailing slash
            flag = b"5" if raw_name.endswith("/") else b"0"
        stored_size = 0 if flag in HEADER_ONLY else size
        if stored_size < 0:
            raise _Bad("negative size")
        real_size = size

        sparse = None
        if flag == b"S":
            if magic != GNU_MAGIC:
                raise _Bad("an old GNU sparse entry without the GNU magic")
            real_size = _number(header[483:495])
            sparse = _old_gnu_sparse(feed, header, real_size, budget)
        elif sparse_fields:
            major, minor = pax.get("GNU.sparse.major", ""), pax.get("GNU.sparse.minor", "")
            version = (major, minor) if major or minor else ("0", "1") if pax.get("GNU.sparse.map") else None
            if version in (("0", "0"), ("0", "1"), ("1", "0")):
                raw_name = pax.get("GNU.sparse.name") or raw_name
                declared = pax.get("GNU.sparse.size") or pax.get("GNU.sparse.realsize")
                if declared:
                    real_size = _decimal(declared, "GNU.sparse.size")
                if flag in HEADER_ONLY:
                    raise _Bad("a sparse map on an entry without data")
                if version == ("1", "0"):
                    sparse, used = _pax_sparse_1x0(
                        feed, real_size, stored_size, limits.max_pax_record, budget
                    )
                    stored_size -= used
                else:
                    sparse = _pax_sparse_0x(pax, real_size, budget)
        pax, long_name, long_link = {}, "", ""
        if sparse is not None and sparse.data != stored_size:
            raise _Bad(f"sparse map holds {sparse.data} bytes of data, the entry stores {stored_size}")

        if 4 * max(len(raw_name), len(link)) > limits.max_path_bytes:  # a character is at most 4 bytes
            for text, what in ((raw_name, "path"), (link, "link target")):
                if len(text.encode("utf-8", "surrogateescape")) > limits.max_path_bytes:
                    raise LayerLimitExceeded(f"a {what} longer than {limits.max_path_bytes} bytes")
        # Every member counts, whiteouts and members not applied too: each costs work and memory.
        out.members += 1
        if out.members > limits.max_entries:
            raise LayerLimitExceeded(f"more than {limits.max_entries} entries")
        # What memory keeps of paths (EntryTable.held_bytes, the whiteouts), this member's in full.
        held = out.entries.held_bytes() + out.whiteout_chars + len(raw_name) + len(link)
        if held > limits.max_layer_path_chars:
            raise LayerLimitExceeded(f"more than {limits.max_layer_path_chars} characters of paths")
        path, escaped = normalize(raw_name)
        if path.count("/") > limits.max_path_depth:
            raise LayerLimitExceeded(f"a path deeper than {limits.max_path_depth} directories")
        if escaped:
            out.note(Anomaly(kind="path-escapes-root", path=raw_name, detail=f"applied as {path}"), limits)
        base = path.rpartition("/")[2]
        if base.startswith(WHITEOUT_PREFIX):
            if base == OPAQUE_MARKER:
                out.opaque_dirs.append(parent(path))
            elif not base.startswith(".wh..wh."):  # other ".wh..wh." names are aufs metadata
                deleted = base[len(WHITEOUT_PREFIX) :]
                if deleted in ("", ".", ".."):  # containerd: "invalid whiteout name"
                    raise _Bad(f"invalid whiteout name {base!r}")
                out.whiteouts.append(parent(path).rstrip("/") + "/" + deleted)
                out.whiteout_chars += len(out.whiteouts[-1])
                out.whiteout_positions.append(len(out.entries))
                if len(out.whiteouts) > limits.max_whiteouts:
                    raise LayerLimitExceeded(f"more than {limits.max_whiteouts} whiteouts")
            _skip_data(feed, stored_size)
            continue
        kind, code = KINDS.get(flag, (None, 0))
        if kind is None or flag in UNAPPLIED:
            out.note(
                Anomaly(
                    kind="unknown-tar-type",
                    path=path,
                    detail=f"tar type {flag!r}: containerd refuses to apply a layer holding it",
                ),
                limits,
            )
        if kind is None:
            _skip_data(feed, stored_size)
            continue

        if kind == HARDLINK:
            link = normalize(link)[0]
        captured = base in CAPTURE_NAMES or (base in CAPTURE_BASES and CAPTURE.fullmatch(path))
        if kind == FILE and sparse is None and size <= limits.capture_bytes and captured:
            out.captured_bytes += size
            if out.captured_bytes > limits.max_captured_bytes:
                raise LayerLimitExceeded(f"more than {limits.max_captured_bytes} bytes of files rules read")
            out.contents[path] = feed.take(size).decode("utf-8", "replace")
            feed.skip(_pad(size))
        elif (
            kind == FILE
            and sparse is None
            and limits.package_bytes
            and maybe_package(path, base)
            and (keep := capture_size(path, size))
        ):
            out.package_bytes += keep
            if out.package_bytes > limits.package_bytes:
                raise LayerLimitExceeded(f"{name}: more than {limits.package_bytes} bytes of package data")
            out.contents[path] = capture_text(path, feed.take(keep))
            if feed.skip(size - keep):
                raise _Bad("truncated tar stream")
            feed.skip(_pad(size))
        else:
            if kind == FILE and captured:
                out.oversized[path] = real_size
            _skip_data(feed, stored_size)
        mode &= 0o7777
        mode = MODES.setdefault(mode, mode)  # a few modes recur: one int object each
        if len(ids) < SHARED_IDS:  # and so do owners: 1000:100 is Studio's default user
            uid, gid = ids.setdefault(uid, uid), ids.setdefault(gid, gid)
        out.entries.add(path, code, real_size, mode, uid, gid, link)

    if out.anomalies_omitted:
        out.anomalies.append(
            Anomaly(kind="anomalies-omitted", detail=f"{out.anomalies_omitted} more anomalies like these")
        )
    feed.drain()  # the end-of-archive padding, and whatever follows it, to the stream's end
    out.size = feed.total
    return out


def _skip_data(feed: _Feed, size: int) -> None:
    """Skip an entry's data, then its padding. Data cut short is an error; padding cut short ends
    the archive (Go reads both so)."""
    padding = -size % BLOCK_SIZE
    if feed.skip(size + padding) > padding:
        raise _Bad("truncated tar stream")
