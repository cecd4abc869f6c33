"""Push to verdict at AWS scale: a model from the scan throughput measured here and Lambda's figures.

The scan of one layer is a stream: ranged reads from ECR on `connections` threads feed a thread that
hashes, one that decompresses and the one that parses tar headers, so a layer takes
`size / min(network, cpu)` plus the invocation's overhead. Its CPU rate is the one measured here
(decompression is one thread: more vCPUs do not speed it past that) unless the function has fewer
vCPUs than the scan keeps busy: then it is the measured rate per CPU second times the vCPUs.
Layers fan out over the state machine's Map, at most `MaxConcurrency` at a time (read from
statemachine/pipeline.asl.json), longest first. The model prints, for images of 1 to 20 GB in 1 to
50 layers, the time from the push event to the verdict, and the largest layer one invocation can
read within Lambda's 15 minutes; then the same for each memory size, which is how template.yaml's
ScanLayerFunction memory and SCAN_CONNECTIONS were chosen.

Usage: python benchmarks/aws_model.py [--scan-mibps N --cpu-mibps C] [--ratio R]
Without --scan-mibps the throughput is measured by benchmarks/scan_throughput.py (one run).
Not modelled: the CPU the ranged reads take in Lambda (TLS, sockets), where the scan here reads a file.
Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import heapq
import json
import math
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MIB = 1 << 20
GB = 10**9

# Published figures, each from AWS's documentation:
STREAM_MIBPS = 75  # sustained throughput of one connection from a function to ECR's layer storage
MB_PER_VCPU = 1769  # Lambda: "at 1,769 MB, a function has the equivalent of one vCPU"
MAX_MEMORY_MB = 10240  # Lambda's largest function: 6 vCPUs
INVOCATION_SECONDS = 900  # Lambda's longest invocation
ECR_LAYER_MIB = 52_000  # ECR: the largest layer part upload, 52,000 MiB in all
MAP_INLINE_LIMIT = 40  # Step Functions: an inline Map runs at most 40 iterations at once

# Our own fixed costs, from the sandbox run (benchmarks/sandbox_e2e.py) and the code:
SCAN_MARGIN_SECONDS = 30  # left of a scan invocation to record its outcome (pipeline settings)
INVOKE_SECONDS = 1.0  # a scan invocation's start (cold start of the Python runtime with the layer)
RESOLVE_SECONDS = 1.5  # event delivery, execution start, Resolve (manifest and config)
EVALUATE_SECONDS = 1.5  # merging the cached layer scans and judging


def measure_scan_mibps() -> tuple[float, float, float]:
    """Compressed MiB/s of a layer's scan here, the same per CPU second (every thread's), and the
    layer's compression ratio."""
    out = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "scan_throughput.py"), "--runs", "1", "--json"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = json.loads(out.strip().splitlines()[-1])
    compressed = figures["layer_compressed_bytes"] / MIB
    ratio = figures["layer_uncompressed_bytes"] / figures["layer_compressed_bytes"]
    return compressed / figures["scan_seconds"], compressed / figures["scan_cpu_seconds"], ratio


def scan_memory_mb() -> int:
    from studio_image_sandbox.stack import load_template

    return int(load_template()["Resources"]["ScanLayerFunction"]["Properties"]["MemorySize"])


def map_concurrency() -> int:
    asl = json.loads((ROOT / "statemachine" / "pipeline.asl.json").read_text())
    found = [state["MaxConcurrency"] for state in asl["States"].values() if state.get("Type") == "Map"]
    return min(found[0] if found else MAP_INLINE_LIMIT, MAP_INLINE_LIMIT)


class Model:
    def __init__(
        self, scan_mibps: float, cpu_mibps: float, ratio: float, memory_mb: int, connections: int, lanes: int
    ):
        self.ratio = ratio  # uncompressed / compressed
        self.lanes = lanes
        # the measured rate, less where the function has fewer vCPUs than the scan keeps busy
        cpu = min(scan_mibps, cpu_mibps * memory_mb / MB_PER_VCPU)
        self.network = STREAM_MIBPS * connections
        self.mibps = min(cpu, self.network)  # compressed MiB/s of one layer

    def layer_seconds(self, uncompressed_bytes: float) -> float:
        return INVOKE_SECONDS + uncompressed_bytes / self.ratio / MIB / self.mibps

    def largest_layer_bytes(self) -> float:
        """The largest layer (uncompressed) one invocation reads before its deadline."""
        return (INVOCATION_SECONDS - SCAN_MARGIN_SECONDS - INVOKE_SECONDS) * self.mibps * MIB * self.ratio

    def judged_seconds(self, layer_sizes: list[float]) -> float:
        lanes = [0.0] * min(self.lanes, len(layer_sizes))  # longest first onto the earliest free lane
        for size in sorted(layer_sizes, reverse=True):
            heapq.heapreplace(lanes, lanes[0] + self.layer_seconds(size))
        return RESOLVE_SECONDS + max(lanes) + EVALUATE_SECONDS


def typical_layers(image_bytes: float, count: int) -> list[float]:
    """Half the image in its base layer, the rest evenly over the others (as framework images are)."""
    if count == 1:
        return [image_bytes]
    return [image_bytes / 2] + [image_bytes / 2 / (count - 1)] * (count - 1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scan-mibps", type=float, help="MiB/s (compressed) of a layer's scan")
    parser.add_argument("--cpu-mibps", type=float, help="the same per CPU second (default: --scan-mibps)")
    parser.add_argument("--ratio", type=float, default=None, help="uncompressed / compressed")
    parser.add_argument("--memory", type=int, help="MB (default: ScanLayerFunction's in template.yaml)")
    parser.add_argument("--connections", type=int, default=4, help="SCAN_CONNECTIONS")
    args = parser.parse_args()

    if args.scan_mibps is None:
        scan_mibps, cpu_mibps, ratio = measure_scan_mibps()
    else:
        scan_mibps, cpu_mibps, ratio = args.scan_mibps, args.cpu_mibps or args.scan_mibps, 2.0
    ratio = args.ratio or ratio
    memory = args.memory or scan_memory_mb()
    lanes = map_concurrency()
    model = Model(scan_mibps, cpu_mibps, ratio, memory, args.connections, lanes)
    print(
        f"scan here: {scan_mibps:.0f} MiB/s compressed, {cpu_mibps:.0f} MiB/s per CPU second, "
        f"{ratio:.2f}x compression; Lambda {memory} MB ({memory / MB_PER_VCPU:.2f} vCPU), "
        f"{args.connections} connections x {STREAM_MIBPS} MiB/s; Map {lanes} at once"
    )
    busy = scan_mibps / cpu_mibps  # vCPUs the scan keeps busy at its full rate
    needed = math.ceil(scan_mibps / STREAM_MIBPS)
    print(f"{needed} connections keep up with the scan ({needed} x {STREAM_MIBPS} MiB/s >= {scan_mibps:.0f})")
    print(
        f"the scan keeps {busy:.2f} vCPUs busy: below {busy * MB_PER_VCPU:.0f} MB it is CPU-bound; "
        f"a parallel decoder could raise one layer's rate by at most "
        f"{max(0.0, model.network / scan_mibps - 1):.0%}, to the connections' {model.network} MiB/s"
    )
    print(f"one layer reads at {model.mibps:.0f} MiB/s compressed; the largest layer one invocation reads:")
    largest = model.largest_layer_bytes()
    print(
        f"  {largest / ratio / GB:.0f} GB compressed, {largest / GB:.0f} GB uncompressed "
        f"(ECR's largest layer: {ECR_LAYER_MIB * MIB / GB:.1f} GB compressed); "
        "a larger one ends as a layer-anomaly finding"
    )
    counts = [1, 5, 10, 20, 50]
    print("\nevent to verdict, seconds (half the image in its base layer):")
    print(f"  {'image':>6} " + "".join(f"{c:>4} layer{'s' if c > 1 else ' '}" for c in counts))
    for gigabytes in (1, 2, 5, 10, 20):
        cells = []
        for count in counts:
            sizes = typical_layers(gigabytes * GB, count)
            seconds = model.judged_seconds(sizes)
            over = max(sizes) > model.largest_layer_bytes()
            cells.append(f"{seconds:>9.0f}{'!' if over else ' '} ")
        print(f"  {gigabytes:>4} GB " + "".join(cells))
    print("  (! a layer exceeds what one invocation reads)")

    print(
        "\nby memory size: the 10 GB, 20-layer image; one layer's rate; Lambda GB-seconds a GB of "
        "compressed layer costs; the largest layer one invocation reads (uncompressed)"
    )
    for size in sorted({1769, 2048, memory, 3008, 5307, MAX_MEMORY_MB}):
        sized = Model(scan_mibps, cpu_mibps, ratio, size, args.connections, lanes)
        seconds = sized.judged_seconds(typical_layers(10 * GB, 20))
        cost = size / 1024 * GB / MIB / sized.mibps
        print(
            f"  {size:>6} MB  {seconds:6.0f} s  {sized.mibps:4.0f} MiB/s  {cost:5.1f} GB-s/GB  "
            f"{sized.largest_layer_bytes() / GB:4.0f} GB{'  (template.yaml)' if size == memory else ''}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
