"""Layer scan throughput and memory, side by side with baselines in the same run.

The layer (built once, then reused) is real content by default: about 1 GiB of this machine's
`/usr`, files from real Debian and Python packages (`--content generated` builds tens of thousands
of generated files instead). Then, in N rounds, each round timing every measure once, back to
back (so a baseline and our figures share the machine's load of the moment; the order alternates
between rounds), and reporting the median of each and the median of the per-round ratios:
- `studio-image check` as a user runs it: a fresh process, start-up included, on an OCI layout
  holding the layer, with no cache;
- our scanner in-process (`scan_layer`: digest verification, decompression, tar headers), in a
  child process whose peak RSS is reported;
- `gzip -dc | tar -t`;
- pure decompression: `python -m isal.igzip -dc` (zlib's `gzip -dc` where isal is absent), and,
  where rapidgzip is installed, that parallel decoder on one thread and on every core, and our tar
  parsing fed by it on every core, the blob hashed beside it as `scan_layer` hashes: whether a
  parallel decoder would speed our scan on this machine's cores;
- the CPU seconds (user and system) each process used, a figure the machine's load moves less
  (for the in-process scan, every thread's CPU during the scan alone: what `aws_model.py` sizes
  the ScanLayer function by);
- the bytes a second `check` reads with the layer cache warm, beside the first's; and the layer
  bytes the pipeline's ScanLayer stage reads for an already-seen layer, with its DynamoDB layer
  cache (on moto; the layer served from the file in place of ECR).

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
import resource
import shutil
import statistics
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
    return min(timed(fn) for _ in range(runs))


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def shell(command: str) -> None:
    subprocess.run(["bash", "-o", "pipefail", "-c", command], check=True, stdout=subprocess.DEVNULL)


SCAN_CHILD = """
import json, sys, time
from studio_image.oci import Descriptor
from studio_image.scan.layer import scan_layer
from studio_image.limits import ScanLimits
path, digest, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
descriptor = Descriptor(mediaType="application/vnd.oci.image.layer.v1.tar+gzip", digest=digest, size=size)
start, cpu = time.perf_counter(), time.process_time()  # process time: every thread's
with open(path, "rb") as raw:
    scan = scan_layer(raw, descriptor, label="bench", limits=ScanLimits())
elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
# VmHWM is this process's own peak: ru_maxrss would carry the parent's over fork and exec.
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "cpu_seconds": cpu, "entries": len(scan.entries),
                  "uncompressed": scan.uncompressed_size, "peak_rss": peak_kib * 1024}))
"""


CHECK_CHILD = """
import sys
from studio_image.cli import main
code = main(sys.argv[1:])
io = dict(line.split(": ") for line in open("/proc/self/io").read().splitlines())
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(f"{code} {io['rchar']} {peak_kib * 1024}", file=sys.stderr)
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


def check_process(layout: Path, *options: str) -> tuple[float, int, int, str]:
    """`studio-image check` in a fresh process: seconds, bytes it read (rchar), its peak RSS, and
    how it ended (`pass`, `fail`, or the one-line error of an unreadable image)."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHECK_CHILD, "check", f"oci:{layout}", "--format", "json", *options],
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - start
    *said, figures = done.stderr.strip().splitlines()
    code, rchar, peak = (int(v) for v in figures.split())
    outcome = {0: "pass", 1: "fail"}.get(code) or " ".join(said).strip()
    return elapsed, rchar, peak, outcome


def rapidgzip_seconds(layer: Path, threads: int) -> float | None:
    try:
        import rapidgzip
    except ImportError:
        return None

    def read_all() -> None:
        with rapidgzip.open(str(layer), parallelization=threads) as stream:
            while stream.read(CHUNK_BYTES):
                pass

    return timed(read_all)


SCAN_RAPIDGZIP_CHILD = """
import hashlib, json, os, sys, threading, time
import rapidgzip
from studio_image.limits import ScanLimits
from studio_image.scan.streams import Ahead
from studio_image.scan.tar import scan_tar
path = sys.argv[1]

def digest():
    hashed = hashlib.sha256()
    with open(path, "rb") as raw:
        while chunk := raw.read(1 << 20):
            hashed.update(chunk)

start = time.perf_counter()
hashing = threading.Thread(target=digest)
hashing.start()
with rapidgzip.open(path, parallelization=os.cpu_count()) as stream:
    tar = Ahead(stream)
    try:
        scan_tar(tar, "bench", ScanLimits())
    finally:
        tar.close()
hashing.join()
print(json.dumps({"seconds": time.perf_counter() - start}))
"""


def scan_rapidgzip_seconds(layer: Path) -> float | None:
    """Our tar parsing fed by rapidgzip on every core (the layer file read at will, which a stream
    from a registry would not allow), hashed beside it: the best a parallel decoder could do here."""
    try:
        import rapidgzip  # noqa: F401
    except ImportError:
        return None
    done = subprocess.run(
        [sys.executable, "-c", SCAN_RAPIDGZIP_CHILD, str(layer)], capture_output=True, text=True, check=True
    )
    return float(json.loads(done.stdout)["seconds"])


PIPELINE_CHILD = """
import json, sys
import boto3
from moto import mock_aws
from studio_image.aws.storage import Bucket, Table
from studio_image.cache import cache_key
from studio_image.oci import Descriptor
from studio_image.pipeline.models import LayerRef, Pushed
from studio_image.pipeline.records import TableLayerCache
from studio_image.pipeline.stages import scan_layer as stage

path, digest, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
read = [0]

class Counted:
    def __init__(self):
        self.raw = open(path, "rb")
    def read(self, n=-1):
        data = self.raw.read(n)
        read[0] += len(data)
        return data
    def close(self):
        self.raw.close()

class LocalSource:  # the layer from the file, in place of ECR's download URL
    def __enter__(self):
        return self
    def __exit__(self, *exc):
        return None
    def open_blob(self, descriptor):
        return Counted()

class Svc:
    pass

with mock_aws():
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket="reports")
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(TableName="layers", BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}])
    svc = Svc()
    s3 = boto3.client("s3", region_name="us-east-1")
    svc.layers = TableLayerCache(Table("layers", dynamodb), Bucket("reports", s3))
    stage.ecr_source = lambda pushed, svc: LocalSource()
    descriptor = Descriptor(mediaType="application/vnd.oci.image.layer.v1.tar+gzip", digest=digest, size=size)
    pushed = Pushed(account="123456789012", region="us-east-1", repository="r", digest=digest)
    task = stage.LayerTask(pushed=pushed, layer=LayerRef(index=0, descriptor=descriptor))
    figures = []
    for _ in range(2):
        read[0] = 0
        outcome = stage.scan_layer(task, svc, 900)
        figures.append({"layer_bytes": read[0], "cached": outcome.cached, "problem": outcome.problem})
    stored = svc.layers.table.get(cache_key(digest))
    figures.append({"cache_item_bytes": int(stored["size"]["N"])})
print(json.dumps(figures))
"""


def pipeline_cache(layer: Path, digest: str) -> list[dict[str, object]]:
    """The pipeline's ScanLayer stage run twice on the layer with its DynamoDB cache (moto)."""
    done = subprocess.run(
        [sys.executable, "-c", PIPELINE_CHILD, str(layer), digest, str(layer.stat().st_size)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


CHUNK_BYTES = 1 << 20  # what the scanner reads at a time (4 MiB reads made rapidgzip 1.6x slower)


def children_cpu() -> float:
    """CPU seconds (user and system) used so far by this process's finished children."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def median(values: list[float]) -> float:
    return statistics.median(values)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="rounds (each times every measure once)")
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
    layout = oci_layout(layer, layer_digest)
    try:
        import isal  # noqa: F401

        decompress = f"{sys.executable} -m isal.igzip -dc {layer} > /dev/null"
        decompressor = "python -m isal.igzip -dc"
    except ImportError:
        decompress, decompressor = f"gzip -dc {layer} > /dev/null", "gzip -dc (zlib)"

    def scan_child() -> dict[str, float]:
        done = subprocess.run(
            [sys.executable, "-c", SCAN_CHILD, str(layer), layer_digest, str(size)],
            capture_output=True,
            text=True,
            check=True,
        )
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    rounds: list[dict[str, object]] = []
    for number in range(args.runs):
        measures = {
            "check": lambda: check_process(layout, "--no-cache"),
            "gzip_tar": lambda: timed(lambda: shell(f"gzip -dc {layer} | tar -t")),
            "scan": scan_child,
            "decompress": lambda: timed(lambda: shell(decompress)),
            "rapidgzip_1": lambda: rapidgzip_seconds(layer, 1),
            "rapidgzip": lambda: rapidgzip_seconds(layer, os.cpu_count() or 1),
            "scan_rapidgzip": lambda: scan_rapidgzip_seconds(layer),
        }
        order = list(measures) if number % 2 == 0 else list(reversed(measures))
        done: dict[str, object] = {}
        for name in order:
            before = children_cpu()
            done[name] = measures[name]()
            done[f"{name}_cpu"] = children_cpu() - before
        rounds.append(done)
        print(f"round {number + 1}/{args.runs} done", file=sys.stderr)

    checks = [r["check"] for r in rounds]
    scans = [r["scan"] for r in rounds]
    check_seconds = median([c[0] for c in checks])  # type: ignore[index]
    scan_seconds = median([s["seconds"] for s in scans])  # type: ignore[index]
    gnu_tar = median([r["gzip_tar"] for r in rounds])  # type: ignore[misc]
    pure = median([r["decompress"] for r in rounds])  # type: ignore[misc]
    parallel, parallel_1, scan_parallel = (
        median([r[name] for r in rounds]) if rounds[0][name] else None  # type: ignore[misc]
        for name in ("rapidgzip", "rapidgzip_1", "scan_rapidgzip")
    )
    ratios = sorted(r["gzip_tar"] / r["check"][0] for r in rounds)  # type: ignore[index, operator]
    peak = max(max(c[2] for c in checks), max(s["peak_rss"] for s in scans))  # type: ignore[index]
    scan = scans[0]
    with tempfile.TemporaryDirectory() as cache:
        _, cold_bytes, _, _ = check_process(layout, "--cache-dir", cache)
        _, warm_bytes, _, _ = check_process(layout, "--cache-dir", cache)
        cached_scan = sum(f.stat().st_size for f in Path(cache).rglob("*") if f.is_file())
    pipeline = pipeline_cache(layer, layer_digest)

    figures = {
        "content": args.content,
        "rounds": args.runs,
        "layer_compressed_bytes": size,
        "layer_uncompressed_bytes": scan["uncompressed"],
        "entries": scan["entries"],
        "check_seconds": round(check_seconds, 3),
        "scan_seconds": round(scan_seconds, 3),
        "gzip_tar_seconds": round(gnu_tar, 3),
        "decompress_seconds": round(pure, 3),
        "rapidgzip_seconds": round(parallel, 3) if parallel else None,
        "rapidgzip_one_thread_seconds": round(parallel_1, 3) if parallel_1 else None,
        "scan_rapidgzip_seconds": round(scan_parallel, 3) if scan_parallel else None,
        "check_cpu_seconds": round(median([r["check_cpu"] for r in rounds]), 3),  # type: ignore[misc]
        "scan_cpu_seconds": round(median([s["cpu_seconds"] for s in scans]), 3),  # type: ignore[index]
        "gzip_tar_cpu_seconds": round(median([r["gzip_tar_cpu"] for r in rounds]), 3),  # type: ignore[misc]
        "decompress_cpu_seconds": round(median([r["decompress_cpu"] for r in rounds]), 3),  # type: ignore[misc]
        "check_speedup_vs_gzip_tar": round(median(ratios), 2),
        "check_speedup_range": [round(ratios[0], 2), round(ratios[-1], 2)],
        "scan_speedup_vs_gzip_tar": round(gnu_tar / scan_seconds, 2),
        "scan_ratio_to_decompress": round(scan_seconds / pure, 2),
        "peak_rss_mb": round(peak / 1e6, 1),
        "first_check_bytes_read": cold_bytes,
        "second_check_bytes_read": warm_bytes,
        "cli_cached_scan_bytes": cached_scan,
        "pipeline_first_layer_bytes": pipeline[0]["layer_bytes"],
        "pipeline_second_layer_bytes": pipeline[1]["layer_bytes"],
        "pipeline_second_cached": pipeline[1]["cached"],
        "pipeline_cache_item_bytes": pipeline[2]["cache_item_bytes"],
        "cores": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 1),
    }
    if args.json:
        print(json.dumps(figures))
        return 0
    mib = 1 << 20
    tar_mib = scan["uncompressed"] / mib
    print(
        f"layer ({args.content}): {size / mib:.0f} MiB gzip, {tar_mib:.0f} MiB tar "
        f"({scan['uncompressed'] / size:.2f}x), {scan['entries']} entries; median of {args.runs} rounds, "
        f"{os.cpu_count()} cores, load average {figures['load_average']}"
    )
    rows = [
        ("studio-image check (process)", check_seconds),
        ("scan_layer (in-process)", scan_seconds),
        ("gzip -dc | tar -t", gnu_tar),
        (decompressor, pure),
    ]
    if parallel and parallel_1 and scan_parallel:
        rows.append(("rapidgzip, 1 thread", parallel_1))
        rows.append((f"rapidgzip, {os.cpu_count()} threads", parallel))
        rows.append((f"tar parsing fed by rapidgzip, {os.cpu_count()} threads", scan_parallel))
    cpu = {
        "studio-image check (process)": figures["check_cpu_seconds"],
        "scan_layer (in-process)": figures["scan_cpu_seconds"],
        "gzip -dc | tar -t": figures["gzip_tar_cpu_seconds"],
        decompressor: figures["decompress_cpu_seconds"],
    }
    for name, seconds in rows:
        used = f"  CPU {cpu[name]:5.2f} s" if name in cpu else ""
        print(f"  {name:<40} {seconds:6.2f} s  {tar_mib / seconds:6.0f} MiB/s{used}")
    if scan_parallel:
        verdict = "faster: worth using on these cores" if scan_parallel < scan_seconds else "slower: not used"
        print(f"  a parallel decoder on {os.cpu_count()} cores, against scan_layer's ISA-L on one: {verdict}")
    print(f"  check / gzip -dc | tar -t per round: {', '.join(f'{r:.2f}x' for r in ratios)}")
    print(
        f"  bytes read by check: {cold_bytes / mib:.1f} MiB cold, {warm_bytes / mib:.1f} MiB with the "
        f"layer cache warm (the cached scan: {cached_scan / mib:.2f} MiB)"
    )
    print(
        f"  layer bytes read by the pipeline's ScanLayer: {pipeline[0]['layer_bytes'] / mib:.1f} MiB first, "
        f"{pipeline[1]['layer_bytes'] / mib:.1f} MiB second (cached: {pipeline[1]['cached']}; "
        f"the DynamoDB/S3 item: {pipeline[2]['cache_item_bytes'] / mib:.2f} MiB)"
    )
    floors = [
        (
            "check faster than gzip -dc | tar -t",
            figures["check_speedup_vs_gzip_tar"],
            ">= 3x",
            figures["check_speedup_vs_gzip_tar"] >= 3,  # type: ignore[operator]
        ),
        ("peak memory (MB)", figures["peak_rss_mb"], "< 200", figures["peak_rss_mb"] < 200),  # type: ignore[operator]
    ]
    for name, value, floor, met in floors:
        print(f"  {name:<38} {value:>7}  floor {floor:<8} {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
