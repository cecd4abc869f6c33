"""Go's archive/tar (containerd's reader) as the reference: on every file of Go's own corpus our
reader returns the entries Go returns, or refuses where Go refuses.

Go's expectations are transcribed as data in data/go_archive_tar.json; the corpus itself is
fetched by `make tools` (scripts/fetch-go-tar-corpus.sh) into GO_TAR_CORPUS.
"""

from __future__ import annotations

import bz2
import io
import json
import os
from pathlib import Path

import pytest

from studio_image.errors import CorruptLayer, LayerLimitExceeded
from studio_image.limits import ScanLimits
from studio_image.scan.models import BLOCK, CHAR, DIR, FIFO, FILE, HARDLINK, SYMLINK
from studio_image.scan.paths import normalize
from studio_image.scan.tar import TarContents, scan_tar

CORPUS = Path(os.environ.get("GO_TAR_CORPUS", Path.home() / ".cache/studio-image/go-archive-tar"))
EXPECTED = json.loads((Path(__file__).parent / "data/go_archive_tar.json").read_text())
# What each Go refusal is in our vocabulary.
ERRORS = {"ErrHeader": CorruptLayer, "ErrUnexpectedEOF": CorruptLayer, "ErrFieldTooLong": LayerLimitExceeded}
# Typeflags containerd applies, as our kinds. 'g' headers it ignores; anything else fails its apply,
# which we report as an unknown-tar-type anomaly ('S' and '7' are also kept as files, as Go reads them).
APPLIED = {"0": FILE, "1": HARDLINK, "2": SYMLINK, "3": CHAR, "4": BLOCK, "5": DIR, "6": FIFO}
READ_AS_FILES = {"S", "7"}

pytestmark = pytest.mark.skipif(
    not CORPUS.is_dir(), reason=f"Go's tar corpus is not in {CORPUS} (make tools)"
)


def corpus(name: str) -> bytes:
    data = (CORPUS / name).read_bytes()
    return bz2.decompress(data) if name.endswith(".bz2") else data


def scan(data: bytes) -> TarContents:
    return scan_tar(io.BytesIO(data), "go corpus", ScanLimits())


def expected_entries(headers: list[dict]) -> tuple[list[tuple], list[str]]:
    entries, refused = [], []
    for header in headers:
        raw = (
            bytes.fromhex(header["name_hex"]).decode("utf-8", "surrogateescape")
            if "name_hex" in header
            else None
        )
        path = normalize(raw if raw is not None else header["name"])[0]
        flag = header["typeflag"]
        if flag == "g":
            continue
        kind = APPLIED.get(flag) or (FILE if flag in READ_AS_FILES else None)
        if flag not in APPLIED:
            refused.append(path)
        if kind is None:
            continue
        link = normalize(header["linkname"])[0] if kind == HARDLINK else header["linkname"]
        entries.append(
            (path, kind, header["size"], header["mode"] & 0o7777, header["uid"], header["gid"], link)
        )
    return entries, refused


@pytest.mark.parametrize("name", sorted(EXPECTED["reader"]))
def test_every_corpus_file_reads_as_go_reads_it(name):
    # Given a file of Go's corpus and the headers (or error) Go's TestReader expects of it
    expected = EXPECTED["reader"][name]
    data = corpus(name)
    if isinstance(expected, str):
        # When Go refuses it, then we refuse it with our typed error
        with pytest.raises(ERRORS[expected]):
            scan(data)
        return
    # When we read it
    contents = scan(data)
    # Then every entry has Go's name, type, size, mode, owner and link target
    entries, refused = expected_entries(expected)
    got = [(e.path, e.kind, e.size, e.mode, e.uid, e.gid, e.link) for e in contents.entries]
    assert got == entries
    # And what containerd would refuse to apply is reported
    assert [a.path for a in contents.anomalies if a.kind == "unknown-tar-type"] == refused


def test_header_only_types_carry_no_data():
    # Given Go's hdr-only.tar (16 entries, the last 8 with sizes set on header-only types)
    contents = scan(corpus("hdr-only.tar"))
    # Then all 16 are read, and no header-only entry consumed data as if it had some
    assert len(contents.entries) + len(contents.anomalies) >= EXPECTED["header_only"]["hdr-only.tar"]


def truncation_input(parts: list) -> bytes:
    spec = EXPECTED["truncation"]
    out = b""
    for source, start, end in parts:
        if source == "trash":
            data = (spec["trash"] * 64).encode()
        elif source == "data2":
            data = corpus(spec["data2"][0]) + bytes(spec["data2"][1])
        else:
            data = corpus(source)
        out += data[start:end]
    return out


@pytest.mark.parametrize("vector", EXPECTED["truncation"]["vectors"], ids=lambda v: repr(v["parts"]))
def test_truncated_and_trailing_data_end_as_in_go(vector):
    # Given an archive cut short, or followed by zero blocks or garbage, as Go's TestReadTruncation
    data = truncation_input(vector["parts"])
    if vector["error"] != "EOF":
        # When Go fails to read it to its end, then so do we, with a typed error
        with pytest.raises(ERRORS[vector["error"]]):
            scan(data)
        return
    # When Go reads it to a clean end, then we read the same number of entries
    assert len(scan(data).entries) == vector["headers"]
