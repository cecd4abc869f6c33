"""Inspect an image: resolve it, scan its layers (cached, concurrently) and build the inventory."""

from __future__ import annotations

import os
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from functools import partial
from typing import Protocol

from .cache import LayerCache, NullCache
from .errors import ImageReadError, LayerLimitExceeded, StudioImageError
from .inventory import Inventory, LayerAnomaly, LayerInfo, Sizes, merge_layers
from .limits import ScanLimits
from .oci import FOREIGN_LAYER_TYPES, Descriptor, Platform
from .scan.layer import scan_layer
from .scan.models import LayerScan
from .sources import ImageSource
from .sources.base import ResolvedImage


class Progress(Protocol):
    """What a display learns while an image is read. Called from worker threads."""

    def start(self, layers: list[Descriptor]) -> None: ...

    def advance(self, index: int, nbytes: int) -> None: ...

    def done(self, index: int, cached: bool) -> None: ...


class NoProgress:
    def start(self, layers: list[Descriptor]) -> None:
        return None

    def advance(self, index: int, nbytes: int) -> None:
        return None

    def done(self, index: int, cached: bool) -> None:
        return None


def layer_label(index: int, count: int, descriptor: Descriptor) -> str:
    return f"layer {index + 1}/{count} ({descriptor.digest[:19]})"


def inspect_image(
    source: ImageSource,
    *,
    platform: Platform | None = None,
    cache: LayerCache | None = None,
    limits: ScanLimits | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> Inventory:
    platform = platform or Platform()
    cache = cache or NullCache()
    limits = limits or ScanLimits()
    progress = progress or NoProgress()
    try:
        resolved = source.resolve(platform)
    except StudioImageError:
        raise
    except Exception as err:  # an OS error or a parser bug must still end in a typed error
        raise ImageReadError(f"{source.reference}: unreadable ({type(err).__name__}: {err})") from err
    layers = resolved.manifest.layers
    progress.start(layers)

    def scan(index: int) -> tuple[LayerScan, bool]:
        descriptor = layers[index]
        found = cache.get(descriptor.digest)
        if found is not None:
            progress.done(index, True)
            return found, True
        result = scan_layer(
            source.open_blob(descriptor),
            descriptor,
            label=layer_label(index, len(layers), descriptor),
            limits=limits,
            on_bytes=partial(progress.advance, index),
        )
        cache.put(result)
        progress.done(index, False)
        return result, False

    readable = [i for i, d in enumerate(layers) if d.media_type not in FOREIGN_LAYER_TYPES]
    workers = workers or max(1, min(len(readable), os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="layer") as pool:
        futures: dict[Future[tuple[LayerScan, bool]], int] = {pool.submit(scan, i): i for i in readable}
        try:
            results: dict[int, tuple[LayerScan, bool]] = {}
            for future in as_completed(futures):
                results[futures[future]] = future.result()
                check_image_entries((r[0] for r in results.values()), limits)
        except BaseException:
            pool.shutdown(wait=True, cancel_futures=True)
            raise

    return assemble_inventory(source.reference, resolved, platform, results, limits=limits)


def check_image_entries(scans: Iterable[LayerScan], limits: ScanLimits) -> None:
    """Stop before the layers of one image together hold more entries, or more characters of
    paths, than the limits."""
    scans = list(scans)
    total = sum(len(scan.entries) + len(scan.whiteouts) for scan in scans)
    if total > limits.max_image_entries:
        raise LayerLimitExceeded(f"the layers hold more than {limits.max_image_entries} entries in all")
    chars = sum(scan.entries.held_bytes() + sum(map(len, scan.whiteouts)) for scan in scans)
    if chars > limits.max_image_path_chars:
        raise LayerLimitExceeded(
            f"the layers hold more than {limits.max_image_path_chars} characters of paths in all"
        )


def assemble_inventory(
    reference: str,
    resolved: ResolvedImage,
    platform: Platform,
    results: dict[int, tuple[LayerScan, bool]],
    problems: dict[int, str] | None = None,
    limits: ScanLimits | None = None,
) -> Inventory:
    """The inventory from per-layer scans, by layer index, and whether each came from the cache.
    A layer with no scan was not read: a foreign layer, or one in `problems` with the reason."""
    problems = problems or {}
    layers = resolved.manifest.layers
    scans: list[LayerScan | None] = [results[i][0] if i in results else None for i in range(len(layers))]
    check_image_entries((scan for scan in scans if scan), limits or ScanLimits())
    files, contents = merge_layers(scans, (limits or ScanLimits()).max_names)
    infos = []
    anomalies = []
    for index, descriptor in enumerate(layers):
        layer_scan, cached = results.get(index, (None, False))
        infos.append(
            LayerInfo(
                index=index,
                digest=descriptor.digest,
                media_type=descriptor.media_type,
                compressed_size=descriptor.size,
                foreign=descriptor.media_type in FOREIGN_LAYER_TYPES,
                problem=problems.get(index),
                compression=layer_scan.compression if layer_scan else "",
                uncompressed_size=layer_scan.uncompressed_size if layer_scan else 0,
                entries=len(layer_scan.entries) if layer_scan else 0,
                cached=cached,
            )
        )
        if layer_scan:
            anomalies += [LayerAnomaly(layer=index, **a.model_dump()) for a in layer_scan.anomalies]
    return Inventory(
        reference=reference,
        digest=resolved.digest,
        manifest_digest=resolved.manifest_digest,
        requested_platform=platform,
        platforms_offered=resolved.platforms_offered,
        config=resolved.config,
        layers=infos,
        layer_scans=scans,
        files=files,
        contents=contents,
        oversized=files.oversized,
        anomalies=anomalies,
        sizes=Sizes(
            compressed=sum(d.size for d in layers),
            uncompressed=sum(i.uncompressed_size for i in infos),
        ),
    )
