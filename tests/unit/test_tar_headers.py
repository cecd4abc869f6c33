"""Header decisions, each as Go's archive/tar makes it (reader.go), on hand-built headers: the cases
an image author could use to show the scanner one file and containerd another."""

from __future__ import annotations

import io
import random

import pytest

from studio_image.errors import CorruptLayer, LayerLimitExceeded
from studio_image.limits import ScanLimits
from studio_image.scan.models import DIR, FILE, SYMLINK
from studio_image.scan.tar import TarContents, _unsigned_checksum, scan_tar

USTAR = b"ustar\x0000"
GNU = b"ustar  \x00"
V7 = bytes(8)


def octal(value: int, width: int) -> bytes:
    return f"{value:0{width - 1}o}".encode() + b"\x00"


def header(
    name: bytes,
    flag: bytes = b"0",
    size: int = 0,
    *,
    link: bytes = b"",
    magic: bytes = USTAR,
    prefix: bytes = b"",
    uid: bytes | None = None,
    signed_checksum: bool = False,
    extra: dict[int, bytes] | None = None,
) -> bytes:
    block = bytearray(512)
    block[0 : len(name)] = name
    block[100:108] = octal(0o644, 8)
    block[108:116] = uid.ljust(8, b"\x00") if uid is not None else octal(0, 8)
    block[116:124] = octal(0, 8)
    block[124:136] = octal(size, 12)
    block[136:148] = octal(0, 12)
    block[156:157] = flag
    block[157 : 157 + len(link)] = link
    block[257:265] = magic
    block[345 : 345 + len(prefix)] = prefix
    for offset, value in (extra or {}).items():
        block[offset : offset + len(value)] = value
    block[148:156] = b" " * 8
    total = sum(b - 256 if signed_checksum and b >= 0x80 else b for b in block)
    block[148:156] = octal(total, 7) + b" "
    return bytes(block)


def member(name: bytes, data: bytes = b"", flag: bytes = b"0", **kwargs) -> bytes:
    return header(name, flag, len(data), **kwargs) + data + bytes(-len(data) % 512)


def pax(records: dict[str, str], flag: bytes = b"x") -> bytes:
    body = b""
    for key, value in records.items():
        record = f" {key}={value}\n".encode()
        length = len(record) + 1
        length = len(record) + len(str(length + len(record)))
        length = len(record) + len(str(length))
        body += str(length).encode() + record
    return member(b"PaxHeader", body, flag)


def gnu_long(name: str, flag: bytes = b"L") -> bytes:
    return member(b"././@LongLink", name.encode() + b"\x00", flag, magic=GNU)


END = bytes(1024)


def scan(data: bytes, limits: ScanLimits | None = None) -> TarContents:
    return scan_tar(io.BytesIO(data), "layer", limits or ScanLimits())


def paths(data: bytes) -> list[str]:
    return [e.path for e in scan(data).entries]


def test_a_gnu_long_name_wins_over_a_pax_path_and_the_header_name():
    # Given a PAX path and a GNU long name before one header, in either order
    for extensions in (
        pax({"path": "srv/decoy"}) + gnu_long("opt/ml/x"),
        gnu_long("opt/ml/x") + pax({"path": "a"}),
    ):
        # Then the GNU long name is the name, as Go merges PAX first and the long name after
        assert paths(extensions + member(b"harmless") + END) == ["/opt/ml/x"]


def test_a_gnu_long_link_wins_over_a_pax_linkpath():
    data = pax({"linkpath": "/decoy"}) + gnu_long("/opt/ml", b"K") + member(b"l", flag=b"2", link=b"x") + END
    assert [e.link for e in scan(data).entries] == ["/opt/ml"]


def test_a_pax_path_wins_over_the_ustar_name_and_prefix():
    data = pax({"path": "opt/ml/x"}) + member(b"name", prefix=b"prefix") + END
    assert paths(data) == ["/opt/ml/x"]


def test_an_empty_pax_record_keeps_the_header_value():
    assert paths(pax({"path": ""}) + member(b"kept") + END) == ["/kept"]


def test_the_ustar_prefix_extends_the_name_but_not_in_v7_headers():
    assert paths(member(b"x", prefix=b"opt/ml") + END) == ["/opt/ml/x"]
    assert paths(member(b"x", prefix=b"opt/ml", magic=V7) + END) == ["/x"]


def test_gnu_headers_use_the_prefix_only_where_their_times_do_not_parse():
    # GNU headers keep atime and ctime there; Go reads a prefix only where those fail (Go 1.7's bug)
    times = octal(1, 12) + octal(2, 12)
    assert paths(member(b"x", prefix=times, magic=GNU) + END) == ["/x"]
    assert paths(member(b"x", prefix=b"opt/ml", magic=GNU) + END) == ["/opt/ml/x"]


def test_only_the_last_of_several_pax_headers_counts():
    # Given two PAX headers in a row, the first naming a path and the second not
    data = pax({"path": "opt/ml/evil"}) + pax({"mtime": "1"}) + member(b"shown") + END
    # Then Go's parsePAX replaces the first: the header's own name stands
    assert paths(data) == ["/shown"]


def test_a_pax_global_header_renames_nothing_and_ends_pending_extensions():
    # Given a global header with a path, and an extended header cut off by a global one
    data = pax({"path": "opt/ml/g"}, b"g") + member(b"one") + pax({"path": "opt/ml/x"}) + pax({}, b"g")
    data += member(b"two") + END
    # Then neither path applies: Go returns global headers alone and containerd ignores them
    assert paths(data) == ["/one", "/two"]


def test_gnu_sparse_name_applies_only_to_sparse_files():
    # Given a GNU.sparse.name without a sparse map or version, beside a PAX path
    data = pax({"path": "opt/ml/x", "GNU.sparse.name": "decoy"}) + member(b"n") + END
    # Then Go ignores it: the PAX path is the name
    assert paths(data) == ["/opt/ml/x"]


def test_pax_sparse_0_1_is_read_with_its_real_size():
    records = {"GNU.sparse.name": "opt/ml/s", "GNU.sparse.size": "4096", "GNU.sparse.numblocks": "1"}
    data = pax({**records, "GNU.sparse.map": "1024,3"}) + member(b"GNUSparseFile.0/s", b"abc") + END
    assert [(e.path, e.size) for e in scan(data).entries] == [("/opt/ml/s", 4096)]


def test_a_sparse_map_past_the_real_size_is_refused():
    records = {"GNU.sparse.name": "s", "GNU.sparse.size": "10", "GNU.sparse.numblocks": "1"}
    with pytest.raises(CorruptLayer, match="sparse"):
        scan(pax({**records, "GNU.sparse.map": "8,3"}) + member(b"s", b"abc") + END)


def test_old_gnu_sparse_extension_blocks_are_consumed_not_read_as_headers():
    # Given an old GNU sparse header whose map continues in an extension block, and a hostile
    # "header" hidden inside that extension block
    entries = b"".join(octal(i * 2, 12) + octal(1, 12) for i in range(4))
    first = header(b"opt/s", b"S", 5, magic=GNU, extra={386: entries, 482: b"\x01", 483: octal(100, 12)})
    extension = bytearray(member(b"opt/ml/hidden")[:512])
    extension[:24] = octal(8, 12) + octal(1, 12)
    extension[504] = 0
    data = first + bytes(extension) + b"abcde" + bytes(507) + END
    # Then the extension block is part of the map, not an entry, and the file has its real size
    assert [(e.path, e.size) for e in scan(data).entries] == [("/opt/s", 100)]


@pytest.mark.parametrize(
    "field,uid",
    [
        (b"\x00\x001750\x00", 1000),  # leading NULs
        (b"  1750 \x00", 1000),  # spaces either side
        (b"\x80\x00\x00\x00\x00\x01\x86\xa0", 100_000),  # base-256
        (b"\xff\xff\xff\xff\xff\xff\xff\xfe", -2),  # base-256, negative
    ],
)
def test_numeric_fields_are_read_as_go_reads_them(field, uid):
    assert [e.uid for e in scan(member(b"f", uid=field) + END).entries] == [uid]


@pytest.mark.parametrize(
    "field", [b"17 5\x00\x00\x00\x00", b"0o17\x00\x00\x00\x00", b"+17\x00\x00\x00\x00\x00"]
)
def test_a_number_go_cannot_parse_is_refused(field):
    with pytest.raises(CorruptLayer, match="bad number"):
        scan(member(b"f", uid=field) + END)


def test_signed_checksums_are_accepted_and_wrong_ones_refused():
    name = "caf\u00e9".encode()
    assert paths(member(name, signed_checksum=True) + END) == ["/caf\u00e9"]
    broken = bytearray(member(b"f"))
    broken[0] = ord("g")
    with pytest.raises(CorruptLayer, match="checksum"):
        scan(bytes(broken) + END)


def test_the_checksum_summed_in_parts_is_the_sum_of_every_byte():
    # Adler-32 sums 256 bytes at most exactly: the extremes, every byte 0xFF, and random headers
    rng = random.Random(7)
    blocks = [bytes(512), b"\xff" * 512, *(rng.randbytes(512) for _ in range(2000))]
    for block in blocks:
        assert _unsigned_checksum(block) == sum(block[:148]) + 8 * 0x20 + sum(block[156:])


def test_a_v7_entry_with_a_trailing_slash_is_a_directory():
    contents = scan(member(b"opt/ml/", flag=b"\x00", magic=V7) + member(b"f", flag=b"\x00", magic=V7) + END)
    assert [(e.path, e.kind) for e in contents.entries] == [("/opt/ml", DIR), ("/f", FILE)]


def test_an_unknown_typeflag_is_skipped_with_its_data_and_reported():
    data = member(b"opt/ml/x", b"hidden header?" * 40, flag=b"Z") + member(b"after") + END
    contents = scan(data)
    assert [e.path for e in contents.entries] == ["/after"]
    assert [(a.kind, a.path) for a in contents.anomalies] == [("unknown-tar-type", "/opt/ml/x")]


def test_end_of_archive_a_lone_zero_block_no_end_and_data_after_end():
    one = member(b"one")
    assert paths(one) == ["/one"]  # no end marker
    assert paths(one + bytes(512)) == ["/one"]  # one zero block, then the stream ends
    assert paths(one + END + member(b"after")) == ["/one"]  # data after the end is not read
    with pytest.raises(CorruptLayer, match="zero block"):
        scan(one + bytes(512) + member(b"smuggled") + END)


def test_symlink_targets_from_pax_linkpath():
    data = pax({"linkpath": "/srv"}) + member(b"opt", flag=b"2", link=b"short") + END
    assert [(e.kind, e.link) for e in scan(data).entries] == [(SYMLINK, "/srv")]


def test_an_extension_header_over_its_limit_is_refused_before_it_is_read():
    with pytest.raises(LayerLimitExceeded, match="extension header"):
        scan(pax({"path": "x" * 5000}) + member(b"f") + END, ScanLimits(max_header_bytes=4096))


def test_sparse_map_entries_stop_at_the_limit():
    records = {"GNU.sparse.name": "s", "GNU.sparse.size": "100", "GNU.sparse.numblocks": "5"}
    data = pax({**records, "GNU.sparse.map": "0,1,10,1,20,1,30,1,40,1"}) + member(b"s", b"abcde") + END
    assert [e.size for e in scan(data, ScanLimits(max_sparse_entries=5)).entries] == [100]
    with pytest.raises(LayerLimitExceeded, match="sparse map entries"):
        scan(data, ScanLimits(max_sparse_entries=4))


def test_an_endless_chain_of_empty_sparse_extension_blocks_stops_at_the_limit():
    # Given an old GNU sparse header followed by extension blocks that list nothing and go on
    first = header(b"s", b"S", 0, magic=GNU, extra={482: b"\x01", 483: octal(10, 12)})
    empty = bytearray(512)
    empty[504] = 1
    # Then the chain counts against the sparse budget instead of running to the stream's end
    with pytest.raises(LayerLimitExceeded, match="sparse map entries"):
        scan(first + bytes(empty) * 100, ScanLimits(max_sparse_entries=50))


@pytest.mark.parametrize("magic", [USTAR, GNU], ids=["ustar", "gnu"])  # Go parses devices past V7
@pytest.mark.parametrize("offset", [136, 329, 337], ids=["mtime", "devmajor", "devminor"])
def test_a_header_whose_other_numbers_go_cannot_parse_is_refused(offset, magic):
    with pytest.raises(CorruptLayer, match="bad number"):
        scan(member(b"f", magic=magic, extra={offset: b"12 34\x00\x00\x00"}) + END)
