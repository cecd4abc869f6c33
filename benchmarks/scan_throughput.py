"""Layer scan throughput and memory, side by side with baselines in the same run.

Builds (once, then reuses) a realistic layer of about 1 GiB uncompressed: tens of thousands of
small files and a few large ones, gzip at about 2x. Then times, best of N runs each:
- our scanner (`scan_layer`: digest verification, decompression, tar headers), in a child process
  whose peak RSS is reported;
- `gzip -dc | tar -t`;
- pure decompression: `python -m isal.igzip -dc` (zlib's `gzip -dc` where isal is absent).

Floors (issue 2): scan at least 2.5x faster than `gzip -dc | tar -t`, within 1.5x of pure
decompression, peak memory under 200 MB. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

DATA = Path(__file__).parent / ".data"
LAYER = DATA / "layer-1g.tar.gz"


def build_layer(path: Path, small_files: int = 40_000, large_files: int = 8) -> None:
    """About 1 GiB of tar: small source-like files plus large blobs, 15% incompressible (gzip ~2x)."""
    rng = random.Random(42)
    words = [bytes(rng.choices(b"abcdefghijklmnopqrstuvwxyz_", k=rng.randint(2, 9))) for _ in range(4000)]

    def text(n: int) -> bytes:
        out = bytearray()
        while len(out) < n:
            out += b" ".join(rng.choices(words, k=16)) + b"\n"
        return bytes(out[:n])

    def mixed(n: int) -> bytes:
        cut = int(n * 0.15)
        return rng.randbytes(cut) + text(n - cut)

    raw = path.with_suffix("")
    with tarfile.open(raw, "w", format=tarfile.PAX_FORMAT) as tar:
        for i in range(small_files):
            data = mixed(rng.randint(200, 16_000))
            info = tarfile.TarInfo(f"opt/conda/lib/python3.11/site-packages/pkg{i // 200}/mod{i}.py")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for i in range(large_files):
            data = mixed(100_000_000)
            info = tarfile.TarInfo(f"opt/conda/lib/libbig{i}.so")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    compressor = ["pigz", "-6"] if shutil.which("pigz") else ["gzip", "-6"]
    with open(path, "wb") as out:
        subprocess.run([*compressor, "-c", str(raw)], stdout=out, check=True)
    raw.unlink()


def best(runs: int, fn) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def shell(command: str) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True, stdout=subprocess.DEVNULL)


SCAN_CHILD = """
import json, sys, time
from studio_image.oci import Descriptor
from studio_image.scan.layer import scan_layer
from studio_image.limits import ScanLimits
path, digest, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
descriptor = Descriptor(mediaType="application/vnd.oci.image.layer.v1.tar+gzip", digest=digest, size=size)
start = time.perf_counter()
with open(path, "rb") as raw:
    scan = scan_layer(raw, descriptor, label="bench", limits=ScanLimits())
elapsed = time.perf_counter() - start
# VmHWM is this process's own peak: ru_maxrss would carry the parent's over fork and exec.
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "entries": len(scan.entries), "uncompressed": scan.uncompressed_size,
                  "peak_rss": peak_kib * 1024}))
"""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    args = parser.parse_args()

    DATA.mkdir(exist_ok=True)
    if not LAYER.exists():
        print(f"building {LAYER} (once) ...", file=sys.stderr)
        build_layer(LAYER)
    size = LAYER.stat().st_size
    digest = hashlib.sha256()
    with open(LAYER, "rb") as raw:
        while chunk := raw.read(1 << 20):
            digest.update(chunk)

    scans = []
    for _ in range(args.runs):
        done = subprocess.run(
            [sys.executable, "-c", SCAN_CHILD, str(LAYER), f"sha256:{digest.hexdigest()}", str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        scans.append(json.loads(done.stdout))
    scan = min(scans, key=lambda s: s["seconds"])
    scan["peak_rss"] = max(s["peak_rss"] for s in scans)

    try:
        import isal  # noqa: F401

        decompress = f"{sys.executable} -m isal.igzip -dc {LAYER} > /dev/null"
        decompressor = "python -m isal.igzip -dc"
    except ImportError:
        decompress, decompressor = f"gzip -dc {LAYER} > /dev/null", "gzip -dc (zlib)"
    gnu_tar = best(args.runs, lambda: shell(f"gzip -dc {LAYER} | tar -t"))
    pure = best(args.runs, lambda: shell(decompress))

    figures = {
        "layer_compressed_bytes": size,
        "layer_uncompressed_bytes": scan["uncompressed"],
        "entries": scan["entries"],
        "scan_seconds": round(scan["seconds"], 3),
        "gzip_tar_seconds": round(gnu_tar, 3),
        "decompress_seconds": round(pure, 3),
        "speedup_vs_gzip_tar": round(gnu_tar / scan["seconds"], 2),
        "ratio_to_decompress": round(scan["seconds"] / pure, 2),
        "peak_rss_mb": round(scan["peak_rss"] / 1e6, 1),
        "cores": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    mib = 1 << 20
    tar_mib = scan["uncompressed"] / mib
    print(
        f"layer: {size / mib:.0f} MiB gzip, {tar_mib:.0f} MiB tar ({scan['uncompressed'] / size:.2f}x), "
        f"{scan['entries']} entries; best of {args.runs}, {os.cpu_count()} cores"
    )
    for name, seconds in (
        ("studio-image scan_layer", scan["seconds"]),
        ("gzip -dc | tar -t", gnu_tar),
        (decompressor, pure),
    ):
        print(f"  {name:<28} {seconds:6.2f} s  {tar_mib / seconds:6.0f} MiB/s")
    floors = [
        (
            "faster than gzip -dc | tar -t",
            figures["speedup_vs_gzip_tar"],
            ">= 2.5x",
            figures["speedup_vs_gzip_tar"] >= 2.5,
        ),
        (
            "time relative to pure decompression",
            figures["ratio_to_decompress"],
            "<= 1.5x",
            figures["ratio_to_decompress"] <= 1.5,
        ),
        ("peak memory (MB)", figures["peak_rss_mb"], "< 200", figures["peak_rss_mb"] < 200),
    ]
    for name, value, floor, met in floors:
        print(f"  {name:<38} {value:>7}  floor {floor:<8} {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
