"""Hostile layers: time and peak memory of our scan (and layer merge) on each, beside Python's
tarfile listing the same input, in the same run.

Builds (once, under benchmarks/.data/hostile) layers an attacker would push: gzip and zstd bombs,
a million entries, deep paths, huge and numerous PAX records, GNU long names, endless sparse maps,
long paths and link targets, a million whiteouts.
Each case runs in a child process that scans the blob as the pipeline does (digest, decompression,
tar headers) and applies it as a layer; its peak RSS is the child's VmHWM. Goal (issue 14): every
case ends, with an inventory or our typed error, within 30 s and under 256 MB. Asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import zstandard
from isal import igzip

DATA = Path(__file__).parent / ".data" / "hostile"
BASELINE_TIMEOUT = 60

SCAN_CHILD = """
import json, sys, time
from studio_image.errors import StudioImageError
from studio_image.inventory import merge_layers
from studio_image.limits import ScanLimits
from studio_image.oci import Descriptor
from studio_image.scan.layer import scan_layer
path, digest, size, media_type = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
descriptor = Descriptor(mediaType=media_type, digest=digest, size=size)
start = time.perf_counter()
try:
    with open(path, "rb") as raw:
        scan = scan_layer(raw, descriptor, label="hostile", limits=ScanLimits())
    files, _ = merge_layers([scan])
    outcome = f"read: {len(scan.entries)} entries, {len(files)} in the filesystem"
except StudioImageError as err:
    outcome = f"{type(err).__name__}: {str(err)[:90]}"
elapsed = time.perf_counter() - start
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": elapsed, "peak_rss": peak_kib * 1024, "outcome": outcome}))
"""

TARFILE_CHILD = """
import json, sys, tarfile, time
start = time.perf_counter()
try:
    with tarfile.open(sys.argv[1], "r|*") as archive:
        count = sum(1 for _ in archive)
    outcome = f"read: {count} members"
except Exception as err:
    outcome = f"{type(err).__name__}: {str(err)[:60]}"
peak_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": time.perf_counter() - start, "peak_rss": peak_kib * 1024, "outcome": outcome}))
"""

GZIP = "application/vnd.oci.image.layer.v1.tar+gzip"
ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd"


def header(name: bytes, flag: bytes = b"0", size: int = 0, extra: dict[int, bytes] | None = None) -> bytes:
    block = bytearray(512)
    block[: len(name)] = name
    block[100:108] = b"0000644\x00"
    block[108:124] = b"0000000\x000000000\x00"
    block[124:136] = f"{size:011o}".encode() + b"\x00" if size < 8**11 else b"\x80" + size.to_bytes(11, "big")
    block[136:148] = b"00000000000\x00"
    block[156:157] = flag
    block[257:265] = b"ustar\x0000"
    for offset, value in (extra or {}).items():
        block[offset : offset + len(value)] = value
    block[148:156] = b"        "
    block[148:156] = f"{sum(block):06o}".encode() + b"\x00 "
    return bytes(block)


def pax(records: list[tuple[str, str]]) -> bytes:
    body = bytearray()
    for key, value in records:
        text = f" {key}={value}\n"
        length = len(text) + len(str(len(text)))
        length = len(text) + len(str(length))
        body += f"{length}{text}".encode()
    return header(b"PaxHeader", b"x", len(body)) + bytes(body) + bytes(-len(body) % 512)


def gzip_members(parts: Iterator[bytes]) -> Iterator[bytes]:
    for part in parts:
        yield igzip.compress(part, compresslevel=1)


def zeros_member_gzip(gib: int) -> Iterator[bytes]:
    member = igzip.compress(bytes(1 << 30), compresslevel=1)
    for _ in range(gib):
        yield member


def write(path: Path, chunks: Iterator[bytes]) -> None:
    with open(path, "wb") as out:
        for chunk in chunks:
            out.write(chunk)


def gzip_bomb(path: Path) -> str:
    # One file that claims a terabyte, its data 70 GiB of zeros: past the uncompressed limit.
    head = pax([("size", str(1 << 40))]) + header(b"bomb")
    write(path, iter([igzip.compress(head), *zeros_member_gzip(70)]))
    return GZIP


def zstd_bomb(path: Path) -> str:
    compressor = zstandard.ZstdCompressor(level=1)
    frame = compressor.compress(bytes(1 << 30))
    head = compressor.compress(pax([("size", str(1 << 40))]) + header(b"bomb"))
    write(path, iter([head, *[frame] * 70]))
    return ZSTD


def tar_gzip(path: Path, blocks: Callable[[], Iterator[bytes]]) -> str:
    with open(path, "wb") as raw, igzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1) as out:
        buffer = bytearray()
        for block in blocks():
            buffer += block
            if len(buffer) > 1 << 22:
                out.write(buffer)
                buffer.clear()
        out.write(buffer + bytes(1024))
    return GZIP


def many_entries(count: int, per_directory: int = 1000) -> Callable[[], Iterator[bytes]]:
    def blocks() -> Iterator[bytes]:
        for i in range(count):
            yield header(f"d{i // per_directory}/f{i % per_directory}".encode())

    return blocks


def deep_paths() -> Iterator[bytes]:
    # Paths of the greatest depth allowed, each in its own top directory: no shared ancestors.
    for i in range(400):
        yield pax([("path", f"t{i}/" + "a/" * 1020 + "f")]) + header(b"deep")


def huge_pax() -> Iterator[bytes]:
    # PAX headers at the size limit, full of the smallest records, one per entry.
    records = [("a", "b")] * ((1 << 20) // 7 - 8)
    block = pax(records)
    for i in range(2000):
        yield block + header(f"f{i}".encode())


def long_names() -> Iterator[bytes]:
    name = b"n" * ((1 << 20) - 512)
    for i in range(2000):
        yield (
            header(b"././@LongLink", b"L", len(name))
            + name
            + bytes(-len(name) % 512)
            + header(f"f{i}".encode())
        )


def endless_sparse() -> Iterator[bytes]:
    # An old GNU sparse file whose map continues in extension blocks without end.
    entry = b"".join(f"{2 * i:011o}\x00{1:011o}\x00".encode() for i in range(4))
    yield header(b"sparse", b"S", 0, {257: b"ustar  \x00", 386: entry, 482: b"\x01", 483: b"00000000100\x00"})
    block = bytearray(512)
    block[504] = 1
    for _ in range(6_000_000):
        yield bytes(block)


def long_paths() -> Iterator[bytes]:
    # Paths near PATH_MAX, each its own: held in memory, 100,000 of them would be 400 MB.
    for i in range(100_000):
        yield pax([("path", f"{i:07}/" + "p" * 3990)]) + header(b"long")


def long_links() -> Iterator[bytes]:
    # Symlinks whose targets are 1 MiB long (a PAX linkpath at the header limit).
    block = pax([("linkpath", "t" * ((1 << 20) - 64))])
    for i in range(2000):
        yield block + header(f"l{i}".encode(), b"2")


def whiteouts(count: int) -> Callable[[], Iterator[bytes]]:
    def blocks() -> Iterator[bytes]:
        for i in range(count):
            yield header(f"d{i // 1000}/.wh.f{i % 1000}".encode())

    return blocks


def escapes(count: int) -> Callable[[], Iterator[bytes]]:
    def blocks() -> Iterator[bytes]:
        for i in range(count):
            yield header(f"../d{i // 1000}/f{i % 1000}".encode())

    return blocks


def captured_files() -> Iterator[bytes]:
    # Files the rules read (any file named passwd), each at the 1 MiB capture limit.
    data = (b"u:x:1:1::/:/bin/sh\n" * 60000)[: (1 << 20) - 512]
    for i in range(3000):
        yield header(f"d{i}/passwd".encode(), b"0", len(data)) + data + bytes(-len(data) % 512)


def package_metadata() -> Iterator[bytes]:
    # Python METADATA headers with no end: 64 KiB kept of each, for the SBOM.
    data = b"Name: x\n" * 8192
    for i in range(4000):
        path = f"usr/lib/python3/dist-packages/p{i}.dist-info/METADATA".encode()
        yield header(path, b"0", len(data)) + data + bytes(-len(data) % 512)


CASES: dict[str, Callable[[Path], str]] = {
    "gzip bomb (70 GiB of zeros)": gzip_bomb,
    "zstd bomb (70 GiB of zeros)": zstd_bomb,
    "1,000,001 entries": lambda p: tar_gzip(p, many_entries(1_000_001)),
    "900,000 entries": lambda p: tar_gzip(p, many_entries(900_000)),
    "400 paths 1021 deep": lambda p: tar_gzip(p, deep_paths),
    "2,000 PAX headers of 1 MiB": lambda p: tar_gzip(p, huge_pax),
    "2,000 GNU long names of 1 MiB": lambda p: tar_gzip(p, long_names),
    "endless old GNU sparse map": lambda p: tar_gzip(p, endless_sparse),
    "100,000 paths of 4,000 characters": lambda p: tar_gzip(p, long_paths),
    "2,000 symlinks to 1 MiB targets": lambda p: tar_gzip(p, long_links),
    "1,000,001 whiteouts": lambda p: tar_gzip(p, whiteouts(1_000_001)),
    "900,000 paths escaping the root": lambda p: tar_gzip(p, escapes(900_000)),
    "3,000 passwd files of 1 MiB": lambda p: tar_gzip(p, captured_files),
    "4,000 METADATA headers of 64 KiB": lambda p: tar_gzip(p, package_metadata),
    "2,000,001 entries": lambda p: tar_gzip(p, many_entries(2_000_001)),
    "2,000,001 whiteouts": lambda p: tar_gzip(p, whiteouts(2_000_001)),
    "2,000,000 entries (at the limit)": lambda p: tar_gzip(p, many_entries(2_000_000)),
    "2,000,000 whiteouts (at the limit)": lambda p: tar_gzip(p, whiteouts(2_000_000)),
    "500,001 whiteouts": lambda p: tar_gzip(p, whiteouts(500_001)),
    "2,000,000 files in one directory (at the limit)": lambda p: tar_gzip(
        p, many_entries(2_000_000, per_directory=2_000_000)
    ),
}


def child(code: str, *args: str) -> dict[str, object]:
    try:
        done = subprocess.run(
            [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=BASELINE_TIMEOUT
        )
    except subprocess.TimeoutExpired:
        return {
            "seconds": float(BASELINE_TIMEOUT),
            "peak_rss": 0,
            "outcome": f"killed after {BASELINE_TIMEOUT} s",
        }
    if done.returncode != 0 or not done.stdout:
        return {"seconds": 0.0, "peak_rss": 0, "outcome": f"crashed: {done.stderr.strip()[-90:]}"}
    return dict(json.loads(done.stdout))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--only", help="run the cases whose name contains this text")
    args = parser.parse_args()
    DATA.mkdir(parents=True, exist_ok=True)
    figures = {}
    for index, (name, build) in enumerate(CASES.items()):
        if args.only and args.only not in name:
            continue
        path = DATA / f"case{index}.blob"
        media = DATA / f"case{index}.media"
        if not path.exists():
            print(f"building {name} ...", file=sys.stderr)
            started = time.perf_counter()
            media.write_text(build(path))
            print(f"  built in {time.perf_counter() - started:.1f} s", file=sys.stderr)
        digest = hashlib.sha256()
        with open(path, "rb") as raw:
            while chunk := raw.read(1 << 20):
                digest.update(chunk)
        ours = child(
            SCAN_CHILD, str(path), f"sha256:{digest.hexdigest()}", str(path.stat().st_size), media.read_text()
        )
        baseline = child(TARFILE_CHILD, str(path))
        figures[name] = {"blob_bytes": path.stat().st_size, "scan": ours, "tarfile": baseline}
    if args.json:
        print(json.dumps(figures, indent=2))
        return 0
    print(f"{'case':34} {'blob':>9} {'scan s':>7} {'peak MB':>8} {'tarfile s':>9} {'peak MB':>8}  outcome")
    for name, row in figures.items():
        ours, base = row["scan"], row["tarfile"]
        print(
            f"{name:34} {row['blob_bytes'] / 1e6:8.1f}M {ours['seconds']:7.1f} {ours['peak_rss'] / 1e6:8.0f}"
            f" {base['seconds']:9.1f} {base['peak_rss'] / 1e6:8.0f}  {ours['outcome']}"
        )
        print(f"{'':34} {'':>9} {'':>7} {'':>8} {'':>9} {'':>8}  tarfile: {base['outcome']}")
    worst_time = max(r["scan"]["seconds"] for r in figures.values())
    worst_peak = max(r["scan"]["peak_rss"] for r in figures.values())
    print(f"worst case: {worst_time:.1f} s, {worst_peak / 1e6:.0f} MB peak (goal: under 30 s and 256 MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
