"""Rule evaluation time per profile on a large inventory, beside the baseline of merging it.

Builds an inventory of N files (default 300,000: a Python environment's worth of site-packages
modules) in memory, then times, best of 3: merging the layer scan into the final filesystem (the
engine step rules follow), and `build_report` (facts, every rule, the derived AppImageConfig) for
each profile. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from studio_image.findings import Profile
from studio_image.inventory import Inventory, Sizes, merge_layers
from studio_image.oci import ImageConfig, Platform
from studio_image.rules.judging import build_report
from studio_image.scan.models import FILE, Entry, LayerScan


def best_of(runs: int, work: Callable[[], object]) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=300_000)
    args = parser.parse_args()
    site = "/opt/conda/lib/python3.11/site-packages"
    entries = [
        Entry(f"{site}/pkg{i // 100 % 500}/sub{i // 100}/mod{i}.py", FILE, 100, 0o644, 0, 0)
        for i in range(args.files)
    ]
    scan = LayerScan(
        digest="sha256:" + "0" * 64,
        media_type="application/vnd.oci.image.layer.v1.tar+gzip",
        compression="gzip",
        compressed_size=0,
        uncompressed_size=0,
        entries=entries,
    )
    files, contents = merge_layers([scan])
    inventory = Inventory(
        reference="benchmark",
        digest=None,
        manifest_digest=None,
        requested_platform=Platform(),
        config=ImageConfig(architecture="amd64", os="linux"),
        layers=[],
        layer_scans=[scan],
        files=files,
        contents=contents,
        sizes=Sizes(compressed=0, uncompressed=0),
    )
    print(f"{args.files:,} files; best of 3")
    print(f"  merge layers (baseline)     {best_of(3, lambda: merge_layers([scan])):.2f} s")
    for profile in Profile:
        seconds = best_of(3, lambda profile=profile: build_report(inventory, profile))
        print(f"  report: {profile:<20} {seconds:.2f} s")


if __name__ == "__main__":
    main()
