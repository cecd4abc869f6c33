"""How long each test tier takes, as the Makefile runs it, and the whole runs `make test` includes at
AWS's pace beside the sandbox's test clock, in the same run. Prints figures; asserts nothing.

    python benchmarks/suite_tiers.py                 # unit, integration, test, test-all
    python benchmarks/suite_tiers.py test e2e        # the targets named

The goals (issue 29), on the project's 2-core machine with .venv and the test images in place:
`make test` under 5 minutes, `make test-all` under 10. The baseline runs the `core` e2e tests with
MOTO_STUDIO_TIME_SCALE=1: Wait states, Retry intervals and SageMaker's asynchronous work at AWS's
pace (the tests' clock is a twentieth of it; botocore's two attempts per call are kept in both).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOALS = {"test": 300, "test-all": 600}


def timed(command: list[str], **environment: str) -> tuple[float, str]:
    """Seconds the command took, and pytest's summary line (or the failure's last lines)."""
    started = time.monotonic()
    done = subprocess.run(
        command, cwd=ROOT, env={**os.environ, **environment}, capture_output=True, text=True, check=False
    )
    seconds = time.monotonic() - started
    found = re.findall(r"^=*\s*(\d+ (?:passed|failed).*?)\s*=*$", done.stdout, re.M)
    summary = found[-1] if found else ""
    if done.returncode != 0:
        summary = f"FAILED ({done.returncode}): {summary or done.stdout[-300:] + done.stderr[-300:]}"
    return seconds, summary


def main(targets: list[str]) -> None:
    subprocess.run(["make", "-s", "dev", "test-images"], cwd=ROOT, check=True)  # not timed
    rows = [(f"make {target}", *timed(["make", "-s", target]), GOALS.get(target)) for target in targets]
    pytest = [str(ROOT / ".venv" / "bin" / "pytest"), "-q", "-m", "e2e and core"]
    rows.append(("core e2e runs, test clock", *timed(pytest), None))
    rows.append(("core e2e runs, AWS's pace (baseline)", *timed(pytest, MOTO_STUDIO_TIME_SCALE="1"), None))
    width = max(len(name) for name, *_ in rows)
    print(f"{'what':<{width}}  {'seconds':>8}  {'goal':>6}  pytest")
    for name, seconds, summary, goal in rows:
        print(f"{name:<{width}}  {seconds:8.1f}  {goal or '':>6}  {summary}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["unit", "integration", "test", "test-all"])
