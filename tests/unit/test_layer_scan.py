"""The streaming layer scanner: tar dialects, compression, verification and limits."""

from __future__ import annotations

import io
import random
import tarfile
import threading

import pytest
import zstandard
from isal import igzip

from studio_image.errors import CorruptLayer, DigestMismatch, LayerLimitExceeded
from studio_image.limits import ScanLimits
from studio_image.scan.layer import scan_layer
from studio_image.scan.models import DIR, FILE, HARDLINK, SYMLINK, Entry
from studio_image_sandbox.ocibuild import Layer
from tests.conftest import descriptor_for, scan_blob, scan_tar_layer


def paths(scan):
    return [e.path for e in scan.entries]


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_entries_are_recorded_with_type_size_mode_and_owner(compression):
    # Given a layer with a directory, a file, a symlink and a hardlink
    layer = (
        Layer()
        .dir("usr/bin")
        .file("usr/bin/tool", b"#!/bin/sh\n", mode=0o755, uid=1000, gid=100)
        .symlink("usr/bin/alias", "tool")
        .hardlink("usr/bin/copy", "./usr/bin/tool")
    )
    # When it is scanned
    scan = scan_tar_layer(layer, compression)
    # Then each entry is described, hardlink targets normalised, symlink targets as written
    assert scan.compression == compression
    assert scan.entries == [
        Entry("/usr/bin", DIR, 0, 0o755, 0, 0),
        Entry("/usr/bin/tool", FILE, 10, 0o755, 1000, 100),
        Entry("/usr/bin/alias", SYMLINK, 0, 0o777, 0, 0, "tool"),
        Entry("/usr/bin/copy", HARDLINK, 0, 0o644, 0, 0, "/usr/bin/tool"),
    ]
    assert (
        scan.uncompressed_size == len(layer.tar_bytes())
        if compression == "none"
        else scan.uncompressed_size > 0
    )


@pytest.mark.parametrize("name", ["./opt/ml/x", "opt//ml/x", "opt/./ml/x", "a/../opt/ml/x", "/opt/ml/x"])
def test_path_tricks_normalise_before_anything_is_recorded(name):
    scan = scan_tar_layer(Layer().file(name, b"1"))
    assert paths(scan) == ["/opt/ml/x"]
    assert scan.anomalies == []


def test_a_path_escaping_the_root_is_kept_at_the_root_and_reported():
    scan = scan_tar_layer(Layer().file("../../opt/ml/evil", b"1"))
    assert paths(scan) == ["/opt/ml/evil"]
    assert [(a.kind, a.path) for a in scan.anomalies] == [("path-escapes-root", "../../opt/ml/evil")]


@pytest.mark.parametrize("tar_format", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT, tarfile.USTAR_FORMAT])
def test_long_names_in_every_tar_dialect(tar_format):
    # Given names over 100 bytes: GNU ././@LongLink, PAX path records, or the ustar prefix field
    long_dir = "opt/" + "/".join(f"segment{i:02d}" for i in range(12))
    layer = Layer(tar_format).file(f"{long_dir}/file.txt", b"x")
    if tar_format != tarfile.USTAR_FORMAT:  # ustar cannot hold a link name over 100 bytes
        layer.symlink("opt/link", "/" + long_dir + "/" + "t" * 120)
    scan = scan_tar_layer(layer)
    assert scan.entries[0].path == f"/{long_dir}/file.txt"
    if tar_format != tarfile.USTAR_FORMAT:
        assert scan.entries[1].link == "/" + long_dir + "/" + "t" * 120


@pytest.mark.parametrize("tar_format", [tarfile.GNU_FORMAT, tarfile.PAX_FORMAT])
def test_ids_beyond_octal_fields_are_read(tar_format):
    # Given a UID too large for the 7-digit octal field: GNU writes base-256, PAX a uid record
    scan = scan_tar_layer(Layer(tar_format).file("data", b"x", uid=3_000_000_000, gid=70_000))
    assert (scan.entries[0].uid, scan.entries[0].gid) == (3_000_000_000, 70_000)


def test_numbers_too_wide_for_the_compact_columns_are_kept_as_read():
    # Given entries before and after ones whose owner, size and ID are past 32 bits or negative
    layer = Layer(tarfile.GNU_FORMAT).file("a", b"x", uid=1000, gid=100)
    layer.file("b/wide", b"y", uid=2**40, gid=-5).file("b/after", b"z", uid=7, gid=8).file("c", b"w", uid=0)
    scan = scan_tar_layer(layer)
    owners = [(e.path, e.uid, e.gid, e.size) for e in scan.entries]
    assert owners == [("/a", 1000, 100, 1), ("/b/wide", 2**40, -5, 1), ("/b/after", 7, 8, 1), ("/c", 0, 0, 1)]


def test_whiteouts_and_opaque_markers_are_recorded_not_listed_as_entries():
    layer = (
        Layer()
        .whiteout("etc/old.conf")
        .opaque("var/cache")
        .file("var/cache/new", b"n")
        .file("tmp/.wh..wh.plnk", b"aufs metadata")
    )
    scan = scan_tar_layer(layer)
    assert scan.whiteouts == ["/etc/old.conf"]
    assert scan.opaque_dirs == ["/var/cache"]
    assert paths(scan) == ["/var/cache/new"]


def test_small_files_rules_read_are_captured_and_others_are_not():
    kernel = '{"argv": ["python"], "display_name": "P", "language": "python"}'
    layer = (
        Layer()
        .file("etc/passwd", "root:x:0:0::/root:/bin/sh\n")
        .file("usr/local/share/jupyter/kernels/py/kernel.json", kernel)
        .file("opt/conda/envs/a/share/jupyter/kernels/b/kernel.json", "x" * ((1 << 20) + 1))  # over the cap
        .file("etc/shadow", "root:*:::\n")
    )
    scan = scan_tar_layer(layer)
    assert scan.contents == {
        "/etc/passwd": "root:x:0:0::/root:/bin/sh\n",
        "/usr/local/share/jupyter/kernels/py/kernel.json": kernel,
    }
    assert len(scan.entries) == 4


def test_multi_member_gzip_is_read_to_its_end():
    # Given a tar split across two gzip members, as pigz and eStargz write
    tar = Layer().file("first", b"1" * 3000).file("second", b"2" * 3000).tar_bytes()
    blob = igzip.compress(tar[:2048]) + igzip.compress(tar[2048:])
    scan = scan_blob(blob)
    assert paths(scan) == ["/first", "/second"]
    assert scan.uncompressed_size == len(tar)


def test_a_gzip_blob_of_many_read_chunks_is_decompressed_whole():
    # Given a gzip blob of incompressible data, several times the reading chunk, then a small file
    data = random.Random(7).randbytes(3 << 20)
    tar = Layer().file("big", data).file("etc/os-release", b"ID=debian\n").tar_bytes()
    blob = igzip.compress(tar)
    # Then the decompressor, reading the blob into its own buffer, is given every byte once
    scan = scan_blob(blob)
    assert paths(scan) == ["/big", "/etc/os-release"]
    assert scan.contents["/etc/os-release"] == "ID=debian\n"
    assert (scan.compressed_size, scan.uncompressed_size) == (len(blob), len(tar))


def test_multi_frame_zstd_is_read_to_its_end():
    tar = Layer().file("first", b"1" * 3000).file("second", b"2" * 3000).tar_bytes()
    compressor = zstandard.ZstdCompressor()
    blob = compressor.compress(tar[:2048]) + compressor.compress(tar[2048:])
    assert paths(scan_blob(blob, "zstd")) == ["/first", "/second"]


def test_a_digest_mismatch_names_the_layer():
    blob = igzip.compress(Layer().file("a", b"a").tar_bytes())
    wrong = descriptor_for(b"other content").model_copy(update={"size": len(blob)})
    with pytest.raises(DigestMismatch, match=r"layer 1/1: content hashes to sha256:"):
        scan_blob(blob, descriptor=wrong)


def test_a_blob_shorter_than_its_descriptor_is_truncated():
    blob = igzip.compress(Layer().file("a", b"a" * 5000).tar_bytes())
    declared = descriptor_for(blob)
    with pytest.raises(CorruptLayer, match=r"truncated: \d+ of \d+ bytes"):
        scan_blob(blob[:-20], descriptor=declared)


def test_a_truncated_gzip_stream_with_a_matching_digest_is_corrupt():
    # Given a layer pushed truncated: the digest matches the bytes, the gzip stream is cut short
    blob = igzip.compress(Layer().file("a", bytes(range(256)) * 400).tar_bytes())[:-100]
    with pytest.raises(CorruptLayer, match="layer 1/1"):
        scan_blob(blob)


def test_a_truncated_zstd_stream_with_a_matching_digest_is_corrupt():
    # Given a zstd layer cut inside its frame, where the tar it holds ends cleanly before the cut
    tar = Layer().file("a", b"a").tar_bytes() + bytes(1 << 20)
    blob = zstandard.ZstdCompressor(write_checksum=True).compress(tar)[:-4]
    # Then it is refused as containerd's decoder refuses it, not read quietly to the cut
    with pytest.raises(CorruptLayer, match="zstd stream ends inside a frame"):
        scan_blob(blob, "zstd")


class _Endless(io.RawIOBase):
    """A blob body that never ends, counting what was read from it."""

    def __init__(self, head: bytes) -> None:
        self.head, self.served = head, 0

    def readinto(self, buffer) -> int:
        chunk = self.head[self.served :] or bytes(len(buffer))
        n = min(len(buffer), len(chunk))
        buffer[:n] = chunk[:n]
        self.served += n
        return n


def test_a_blob_longer_than_its_descriptor_stops_at_the_first_extra_byte():
    # Given a registry that sends more than the descriptor's size, without end
    blob = igzip.compress(Layer().file("a", b"a").tar_bytes())
    body = _Endless(blob)
    # Then reading stops with DigestMismatch within a chunk of the declared size, not at a scan limit
    with pytest.raises(DigestMismatch, match="longer than"):
        scan_layer(body, descriptor_for(blob), label="layer 1/1", limits=ScanLimits())
    assert body.served <= len(blob) + (1 << 20)


def test_a_tar_cut_inside_a_file_is_corrupt():
    tar = Layer().file("a", b"a" * 5000).tar_bytes()[:2048]
    with pytest.raises(CorruptLayer, match="truncated tar stream"):
        scan_tar_layer(tar)


def test_a_header_with_a_bad_checksum_is_corrupt():
    tar = bytearray(Layer().file("a", b"a").tar_bytes())
    tar[0] ^= 0xFF  # the name's first byte, without fixing the checksum
    with pytest.raises(CorruptLayer, match="checksum"):
        scan_tar_layer(bytes(tar))


def test_random_bytes_are_not_a_layer():
    with pytest.raises(CorruptLayer):
        scan_tar_layer(bytes(range(256)) * 8, "none")


def test_a_decompression_bomb_stops_at_the_limit():
    # Given 64 MiB of zeros that gzip squeezes into a few dozen kilobytes
    tar = Layer().file("bomb", bytes(64 << 20)).tar_bytes()
    blob = igzip.compress(tar, compresslevel=3)
    assert len(blob) < 1 << 20
    with pytest.raises(LayerLimitExceeded, match="decompression bomb"):
        scan_blob(blob, limits=ScanLimits(max_uncompressed=16 << 20))


def test_too_many_entries_stop_at_the_limit():
    layer = Layer()
    for i in range(20):
        layer.file(f"f{i}")
    with pytest.raises(LayerLimitExceeded, match="more than 10 entries"):
        scan_tar_layer(layer, limits=ScanLimits(max_entries=10))


def test_an_oversized_pax_header_stops_at_the_limit():
    info = tarfile.TarInfo("x")
    info.pax_headers = {"comment": "c" * 5000}
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w", format=tarfile.PAX_FORMAT) as tar:
        tar.addfile(info, io.BytesIO(b""))
    with pytest.raises(LayerLimitExceeded, match="extension header"):
        scan_tar_layer(buffer.getvalue(), limits=ScanLimits(max_header_bytes=1024))


def test_a_layer_labelled_gzip_that_is_plain_tar_is_read_and_reported():
    tar = Layer().file("a", b"a").tar_bytes()
    scan = scan_blob(tar, descriptor=descriptor_for(tar, "gzip"))
    assert paths(scan) == ["/a"]
    assert [a.kind for a in scan.anomalies] == ["compression-mismatch"]


@pytest.mark.parametrize("compression", ["gzip", "zstd"])
def test_a_scan_stopped_early_leaves_no_decompressing_thread_behind(compression):
    # Given a layer of 40 MB of zeros (many chunks), scanned under a 1 MB limit
    tar = Layer().file("zeros", bytes(40 << 20)).tar_bytes()
    blob = igzip.compress(tar) if compression == "gzip" else zstandard.ZstdCompressor().compress(tar)
    before = {t for t in threading.enumerate() if t.name == "decompress"}
    with pytest.raises(LayerLimitExceeded):
        scan_layer(
            io.BytesIO(blob),
            descriptor_for(blob, compression),
            label="l",
            limits=ScanLimits(max_uncompressed=1 << 20),
        )
    # Then the thread that decompressed ahead has ended
    assert {t for t in threading.enumerate() if t.name == "decompress"} == before
