"""A layer already scanned is never read again; a damaged cache entry reads as a miss."""

from pathlib import Path

from studio_image.cache import DirectoryCache, cache_key
from studio_image.engine import inspect_image
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
