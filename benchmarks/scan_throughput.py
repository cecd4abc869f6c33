"""Layer scan throughput and memory, side by side with baselines in the same run.

The layer (built once, then reused) is real content by default: about 1 GiB of this machine's
`/usr`, files from real Debian and Python packages (`--content generated` builds tens of thousands
of generated files instead). Then times, best of N runs each:
- `studio-image check` as a user runs it: a fresh process, start-up included, on an OCI layout
  holding the layer, with no cache;
- our scanner in-process (`scan_layer`: digest verification, decompression, tar headers), in a
  child process whose peak RSS is reported;
- `gzip -dc | tar -t`;
- pure decompression: `python -m isal.igzip -dc` (zlib's `gzip -dc` where isal is absent), and
  rapidgzip on every core where it is installed (a parallel decoder: worth it only with more cores);
- the bytes a second `check` reads with the layer cache warm, beside the first's.

Floors: check at least 3x faster than `gzip -dc | tar -t`, peak memory under 200 MB. Prints
figures; asserts nothing.
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
import tempfile
import time
from pathlib import Path

DATA = Path(__file__).parent / ".data"
LAYERS = {"usr": DATA / "layer-usr.tar.gz", "generated": DATA / "layer-1g.tar.gz"}
REAL_BYTES = 1100 << 20


def build_real_layer(path: Path, root: Path = Path("/usr"), limit: int = REAL_BYTES) -> None:
    """A layer of about `limit` bytes of `root`: every directory and an even sample of its files
    (every Nth, so that each package's libraries, data and scripts are represented)."""
    directories, files = [], []
    for directory, dirs, names in os.walk(root):
        dirs.sort()
        directories.append(directory)
        files += [
            (os.path.join(directory, n), os.lstat(os.path.join(directory, n)).st_size) for n in sorted(names)
        ]
    stride = max(1, sum(size for _, size in files) // limit)
    listing = path.with_suffix(".list")
    chosen = directories + [name for name, _ in files[::stride]]
    listing.write_text("\n".join(os.path.relpath(name, "/") for name in chosen) + "\n")
    compressor = "pigz -6" if shutil.which("pigz") else "gzip -6"
    shell(f"tar -C / --no-recursion -T {listing} -cf - | {compressor} > {path}")
    listing.unlink()


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
from studio_image.scan.tar import ScanLimits
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


CHECK_CHILD = """
import sys
from studio_image.cli import main
code = main(sys.argv[1:])
io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(f"{io['rchar']} {peak_kib * 1024}", file=sys.stderr)
"""


def oci_layout(layer: Path, digest: str) -> Path:
    """An OCI image layout around the layer (the blob hard-linked, not copied) for `check`."""
    root = DATA / f"layout-{layer.name.split('.')[0]}"
    blobs = root / "blobs" / "sha256"
    blobs.mkdir(parents=True, exist_ok=True)

    def blob(data: bytes) -> dict[str, object]:
        name = hashlib.sha256(data).hexdigest()
        (blobs / name).write_bytes(data)
        return {"digest": f"sha256:{name}", "size": len(data)}

    layer_blob = blobs / digest.removeprefix("sha256:")
    if not layer_blob.exists():
        os.link(layer, layer_blob)
    config = {
        "architecture": "amd64",
        "os": "linux",
        "config": {"User": "0:0"},
        "rootfs": {"type": "layers", "diff_ids": [digest]},  # not checked by the scan
    }
    manifest = {
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            **blob(json.dumps(config).encode()),
        },
        "layers": [
            {
                "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                "digest": digest,
                "size": layer.stat().st_size,
            }
        ],
    }
    index = {
        "schemaVersion": 2,
        "manifests": [
            {
                "mediaType": "application/vnd.oci.image.manifest.v1+json",
                **blob(json.dumps(manifest).encode()),
                "annotations": {"org.opencontainers.image.ref.name": "bench"},
            }
        ],
    }
    (root / "index.json").write_text(json.dumps(index))
    (root / "oci-layout").write_text('{"imageLayoutVersion": "1.0.0"}')
    return root


def check_process(layout: Path, *options: str) -> tuple[float, int, int]:
    """`studio-image check` in a fresh process: seconds, bytes it read (rchar) and its peak RSS."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHECK_CHILD, "check", f"oci:{layout}", "--format", "json", *options],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    if done.returncode not in (0, 1):
        raise SystemExit(f"check failed: {done.stderr.strip()}")
    rchar, peak = (int(v) for v in done.stderr.strip().splitlines()[-1].split())
    return elapsed, rchar, peak


def rapidgzip_seconds(layer: Path, runs: int) -> float | None:
    try:
        import rapidgzip
    except ImportError:
        return None

    def read_all() -> None:
        with rapidgzip.open(str(layer), parallelization=os.cpu_count() or 1) as stream:
            while stream.read(CHUNK_BYTES):
                pass

    return best(runs, read_all)


CHUNK_BYTES = 4 << 20


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--content", choices=sorted(LAYERS), default="usr", help="what the layer holds")
    args = parser.parse_args()

    DATA.mkdir(exist_ok=True)
    layer = LAYERS[args.content]
    if not layer.exists():
        print(f"building {layer} (once) ...", file=sys.stderr)
        (build_real_layer if args.content == "usr" else build_layer)(layer)
    size = layer.stat().st_size
    digest = hashlib.sha256()
    with open(layer, "rb") as raw:
        while chunk := raw.read(1 << 20):
            digest.update(chunk)
    layer_digest = f"sha256:{digest.hexdigest()}"

    scans = []
    for _ in range(args.runs):
        done = subprocess.run(
            [sys.executable, "-c", SCAN_CHILD, str(layer), layer_digest, str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        scans.append(json.loads(done.stdout))
    scan = min(scans, key=lambda s: s["seconds"])
    scan["peak_rss"] = max(s["peak_rss"] for s in scans)

    layout = oci_layout(layer, layer_digest)
    checks = [check_process(layout, "--no-cache") for _ in range(args.runs)]
    check_seconds = min(c[0] for c in checks)
    check_peak = max(c[2] for c in checks)
    with tempfile.TemporaryDirectory() as cache:
        _, cold_bytes, _ = check_process(layout, "--cache-dir", cache)
        _, warm_bytes, _ = check_process(layout, "--cache-dir", cache)

    try:
        import isal  # noqa: F401

        decompress = f"{sys.executable} -m isal.igzip -dc {layer} > /dev/null"
        decompressor = "python -m isal.igzip -dc"
    except ImportError:
        decompress, decompressor = f"gzip -dc {layer} > /dev/null", "gzip -dc (zlib)"
    gnu_tar = best(args.runs, lambda: shell(f"gzip -dc {layer} | tar -t"))
    pure = best(args.runs, lambda: shell(decompress))
    parallel = rapidgzip_seconds(layer, args.runs)

    figures = {
        "content": args.content,
        "layer_compressed_bytes": size,
        "layer_uncompressed_bytes": scan["uncompressed"],
        "entries": scan["entries"],
        "check_seconds": round(check_seconds, 3),
        "scan_seconds": round(scan["seconds"], 3),
        "gzip_tar_seconds": round(gnu_tar, 3),
        "decompress_seconds": round(pure, 3),
        "rapidgzip_seconds": round(parallel, 3) if parallel else None,
        "check_speedup_vs_gzip_tar": round(gnu_tar / check_seconds, 2),
        "speedup_vs_gzip_tar": round(gnu_tar / scan["seconds"], 2),
        "ratio_to_decompress": round(scan["seconds"] / pure, 2),
        "peak_rss_mb": round(max(scan["peak_rss"], check_peak) / 1e6, 1),
        "first_check_bytes_read": cold_bytes,
        "second_check_bytes_read": warm_bytes,
        "cores": os.cpu_count(),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    mib = 1 << 20
    tar_mib = scan["uncompressed"] / mib
    print(
        f"layer ({args.content}): {size / mib:.0f} MiB gzip, {tar_mib:.0f} MiB tar "
        f"({scan['uncompressed'] / size:.2f}x), {scan['entries']} entries; best of {args.runs}, "
        f"{os.cpu_count()} cores"
    )
    rows = [
        ("studio-image check (process)", check_seconds),
        ("scan_layer (in-process)", scan["seconds"]),
        ("gzip -dc | tar -t", gnu_tar),
        (decompressor, pure),
    ]
    if parallel:
        rows.append((f"rapidgzip, {os.cpu_count()} threads", parallel))
    for name, seconds in rows:
        print(f"  {name:<30} {seconds:6.2f} s  {tar_mib / seconds:6.0f} MiB/s")
    print(
        f"  bytes read by check: {cold_bytes / mib:.1f} MiB cold, {warm_bytes / mib:.1f} MiB with the "
        "layer cache warm"
    )
    floors = [
        (
            "check faster than gzip -dc | tar -t",
            figures["check_speedup_vs_gzip_tar"],
            ">= 3x",
            gnu_tar / check_seconds >= 3,
        ),
        ("peak memory (MB)", figures["peak_rss_mb"], "< 200", figures["peak_rss_mb"] < 200),
    ]
    for name, value, floor, met in floors:
        print(f"  {name:<38} {value:>7}  floor {floor:<8} {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
