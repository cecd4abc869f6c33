"""A layer already scanned is never read again; a damaged cache entry reads as a miss."""

import json
from pathlib import Path

import zstandard

from studio_image.cache import DirectoryCache, cache_key, decode_scan, encode_scan
from studio_image.engine import inspect_image
from studio_image.scan.models import DIR, FILE, SYMLINK, Entry, LayerScan
from studio_image.sources import open_source
from studio_image_sandbox.ocibuild import Layer


def inspect(reference, cache):
    with open_source(reference) as source:
        return inspect_image(source, cache=cache)


def test_a_cached_layer_is_not_read_again(make_image, tmp_path):
    # Given an image inspected once with a cache
    reference = make_image(Layer().file("etc/passwd", "root:x:0:0::/:/bin/sh\n"), Layer().file("opt/ml/x"))
    cache = DirectoryCache(tmp_path / "cache")
    first = inspect(reference, cache)
    assert [layer.cached for layer in first.layers] == [False, False]
    # When its layer blobs disappear and it is inspected again
    for layer in first.layers:
        (Path(reference.split(":")[1]) / "blobs" / "sha256" / layer.digest.split(":")[1]).unlink()
    second = inspect(reference, cache)
    # Then every layer comes from the cache and the inventory is the same
    assert [layer.cached for layer in second.layers] == [True, True]
    assert second.files.nodes == first.files.nodes
    assert second.contents == first.contents


def test_a_damaged_cache_entry_is_a_miss(make_image, tmp_path):
    reference = make_image(Layer().file("a", b"a"))
    cache = DirectoryCache(tmp_path / "cache")
    digest = inspect(reference, cache).layers[0].digest
    (tmp_path / "cache" / f"{cache_key(digest)}.json.zst").write_bytes(b"garbage")
    assert cache.get(digest) is None
    assert inspect(reference, cache).layers[0].cached is False


def test_a_cached_scan_keeps_every_entry_field_and_non_utf8_names():
    # Given a scan whose entries carry a non-UTF-8 name, a link and IDs past 32 bits
    entries = [
        Entry("/d", DIR, 0, 0o755, 0, 0),
        Entry("/d/caf\udce9", FILE, 12, 0o644, 5_000_000_000, 70_000),
        Entry("/d/link", SYMLINK, 0, 0o777, 0, 0, "../caf\udce9"),
    ]
    scan = LayerScan(
        digest="sha256:0",
        media_type="m",
        compression="gzip",
        compressed_size=1,
        uncompressed_size=2,
        entries=entries,
    )
    # When it goes through the cache's encoding and back
    decoded = decode_scan(encode_scan(scan))
    # Then every field of every entry is as it was
    assert decoded is not None and list(decoded.entries) == entries


def test_a_cached_entry_of_the_wrong_shape_is_a_miss():
    # Given a cached scan whose entry has a kind no reader makes
    row = ["/x", "socket", 0, 0o644, 0, 0, ""]
    text = json.dumps(
        {
            "digest": "sha256:0",
            "media_type": "m",
            "compression": "gzip",
            "compressed_size": 1,
            "uncompressed_size": 2,
            "entries": [row],
        }
    )
    # When it is decoded, then it reads as a cache miss
    assert decode_scan(zstandard.ZstdCompressor().compress(text.encode())) is None
