"""How long `studio-image` takes to start, beside the baseline of a bare Python start.

Runs each command N times (default 10) as a new process and prints the median and the best wall
time, then the import time `python -X importtime` attributes to the CLI module. Asserts nothing.
"""

from __future__ import annotations

import argparse
import re
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path


def wall_times(argv: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    cli = shutil.which("studio-image", path=str(Path(sys.executable).parent)) or "studio-image"
    commands = {
        "python -c pass (baseline)": [sys.executable, "-c", "pass"],
        "studio-image --version": [cli, "--version"],
        "studio-image --help": [cli, "--help"],
        "studio-image check --help": [cli, "check", "--help"],
    }
    print(f"{'command':<28} {'median':>8} {'best':>8}   ({args.runs} runs each)")
    for name, argv in commands.items():
        times = wall_times(argv, args.runs)
        print(f"{name:<28} {statistics.median(times):>7.3f}s {min(times):>7.3f}s")
    profile = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import studio_image.cli"],
        capture_output=True,
        text=True,
        check=True,
    ).stderr
    cumulative = re.search(r"\|\s*(\d+) \| studio_image\.cli$", profile, re.M)
    if cumulative:
        print(f"import studio_image.cli: {int(cumulative[1]) / 1000:.1f} ms (-X importtime)")


if __name__ == "__main__":
    main()
