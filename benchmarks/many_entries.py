"""A layer of two million small entries: `studio-image check` beside `gzip -dc | tar -t`.

Builds (once) a gzip layer of 2,000,000 entries (empty files, 200 to a directory, paths as deep as
a site-packages tree), wraps it in an OCI layout, and times, best of N, `studio-image check` in a
fresh process (peak RSS reported) and `gzip -dc | tar -t` on the same layer. Prints the per-entry
cost and memory. Goal: under 15 s and under 200 MB. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import zlib
from pathlib import Path

from scan_throughput import DATA, best, check_process, oci_layout, shell

LAYER = DATA / "layer-2m-entries.tar.gz"
ENTRIES = 2_000_000


def header(name: bytes) -> bytes:
    """A ustar header for an empty regular file, mode 0644, owned by 1000:100."""
    block = bytearray(512)
    block[0 : len(name)] = name
    block[100:108] = b"0000644\0"
    block[108:116] = b"0001750\0"
    block[116:124] = b"0000144\0"
    block[124:136] = b"00000000000\0"
    block[136:148] = b"14707331070\0"
    block[148:156] = b"        "
    block[156] = ord("0")
    block[257:265] = b"ustar\x0000"
    block[148:156] = b"%06o\0 " % sum(block)
    return bytes(block)


def build(path: Path, entries: int) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: the gzip container
    with open(path, "wb") as out:
        for i in range(entries):
            name = b"opt/conda/lib/python3.11/site-packages/pkg%05d/sub/mod%07d.py" % (i // 200, i)
            out.write(compressor.compress(header(name)))
        out.write(compressor.compress(bytes(1024)))  # the end-of-archive marker
        out.write(compressor.flush())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    DATA.mkdir(exist_ok=True)
    if not LAYER.exists():
        print(f"building {LAYER} (once) ...", file=sys.stderr)
        build(LAYER, ENTRIES)
    digest = f"sha256:{hashlib.sha256(LAYER.read_bytes()).hexdigest()}"
    layout = oci_layout(LAYER, digest)
    checks = [check_process(layout, "--no-cache") for _ in range(args.runs)]
    seconds = min(c[0] for c in checks)
    peak = max(c[2] for c in checks)
    gnu_tar = best(args.runs, lambda: shell(f"gzip -dc {LAYER} | tar -t"))
    print(
        f"layer: {ENTRIES:,} entries, {LAYER.stat().st_size / 2**20:.0f} MiB gzip; best of {args.runs}, "
        f"{os.cpu_count()} cores"
    )
    print(
        f"  studio-image check (process)  {seconds:6.2f} s  peak {peak / 1e6:5.0f} MB   "
        f"{seconds / ENTRIES * 1e6:.1f} us and {peak / ENTRIES:.0f} bytes an entry"
    )
    print(f"  gzip -dc | tar -t             {gnu_tar:6.2f} s")
    for name, met in (("under 15 s", seconds < 15), ("under 200 MB", peak < 200e6)):
        print(f"  {name:<14} {'met' if met else 'MISSED'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
