"""Scan speed and peak memory with the SBOM's package capture on and off, in the same run.

Two inputs: the real Debian image the SBOM tests read (the venv-wheel case of
scripts/build-test-images.sh, `make test-images`, which needs root: mmdebstrap minbase, then a venv
with ipykernel from PyPI), whose layers hold a dpkg status and dist-info METADATA files, and the
1 GiB synthetic layer of scan_throughput.py (40,000 files under site-packages, no package metadata:
the cost of looking at every path). Each scan runs in a child process (best of N for time, largest
peak RSS). Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from scan_throughput import DATA, LAYERS, build_layer

LAYER = LAYERS["generated"]

ROOT = Path(__file__).parents[1]
TEST_IMAGES = ROOT / "scripts/build-test-images.sh"

SCAN_CHILD = """
import hashlib, json, os, sys, time
from studio_image.oci import Descriptor
from studio_image.scan.layer import scan_layer
from studio_image.limits import ScanLimits
package_bytes, paths = int(sys.argv[1]), sys.argv[2:]
descriptors = []
for path in paths:
    digest = hashlib.sha256()
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            digest.update(chunk)
    descriptors.append(Descriptor(mediaType="application/vnd.oci.image.layer.v1.tar+gzip",
                                  digest=f"sha256:{digest.hexdigest()}", size=os.path.getsize(path)))
start = time.perf_counter()
scans = []
for path, descriptor in zip(paths, descriptors):
    with open(path, "rb") as raw:
        limits = ScanLimits(package_bytes=package_bytes)
        scans.append(scan_layer(raw, descriptor, label="bench", limits=limits))
elapsed = time.perf_counter() - start
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
kept = sum(len(text) for scan in scans for text in scan.contents.values())
print(json.dumps({"seconds": elapsed, "peak_rss": peak_kib * 1024, "captured_chars": kept,
                  "captures": sum(len(scan.contents) for scan in scans)}))
"""


def layer_blobs(layout: Path, tag: str) -> list[Path]:
    index = json.loads((layout / "index.json").read_text())
    (digest,) = [
        m["digest"]
        for m in index["manifests"]
        if m["annotations"]["org.opencontainers.image.ref.name"] == tag
    ]
    manifest = json.loads((layout / "blobs/sha256" / digest[7:]).read_text())
    return [layout / "blobs/sha256" / d["digest"][7:] for d in manifest["layers"]]


def scan(paths: list[Path], package_bytes: int) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "-c", SCAN_CHILD, str(package_bytes), *map(str, paths)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def measure(paths: list[Path], runs: int) -> dict[str, dict[str, float]]:
    """Off and on alternate, so that both see the machine's load alike; best time, largest peak."""
    results: dict[str, list[dict[str, float]]] = {"capture off": [], "capture on": []}
    for _ in range(runs):
        results["capture off"].append(scan(paths, 0))
        results["capture on"].append(scan(paths, 256 << 20))
    return {
        label: min(found, key=lambda r: r["seconds"]) | {"peak_rss": max(r["peak_rss"] for r in found)}
        for label, found in results.items()
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    subprocess.run([TEST_IMAGES], check=True)
    layout = (
        Path(
            subprocess.run(
                [TEST_IMAGES, "--print-dir"], capture_output=True, text=True, check=True
            ).stdout.strip()
        )
        / "layout"
    )
    DATA.mkdir(exist_ok=True)
    if not LAYER.exists():
        print(f"building {LAYER} (once) ...", file=sys.stderr)
        build_layer(LAYER)
    inputs = {
        "debian minbase + venv (2 layers)": layer_blobs(layout, "venv-wheel"),
        "synthetic 1 GiB layer": [LAYER],
    }
    print(f"best of {args.runs}, {os.cpu_count()} cores")
    for name, paths in inputs.items():
        size = sum(p.stat().st_size for p in paths)
        print(f"{name}: {size / (1 << 20):.0f} MiB compressed")
        figures_by_mode = measure(paths, args.runs)
        off = figures_by_mode["capture off"]
        for label, figures in figures_by_mode.items():
            print(
                f"  {label:<12} {figures['seconds']:6.2f} s ({figures['seconds'] / off['seconds']:.2f}x)  "
                f"peak RSS {figures['peak_rss'] / 1e6:6.1f} MB  "
                f"{figures['captures']:>5} files kept, {figures['captured_chars'] / 1e6:.2f} M chars"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
