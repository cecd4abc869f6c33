"""`make demo`: build the sample images and check each one, as `studio-image check` would."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from studio_image.engine import inspect_image
from studio_image.findings import Profile
from studio_image.report import build_report
from studio_image.sources import open_source

from .samples import SAMPLES


def main() -> int:
    rows = [("IMAGE", "PROFILE", "VERDICT", "EXPECTED", "FIRST FINDING")]
    surprises = 0
    with tempfile.TemporaryDirectory(prefix="studio-image-demo-") as tmp:
        for sample in SAMPLES:
            reference = sample.build(Path(tmp))
            with open_source(reference) as source:
                report = build_report(inspect_image(source), Profile(sample.profile))
            first = report.errors[0] if report.errors else (report.findings or [None])[0]
            summary = f"{first.rule}: {first.message}" if first else "-"
            rows.append((sample.name, sample.profile, report.verdict.value, sample.expect, summary[:90]))
            surprises += report.verdict.value != sample.expect
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False)) + "  " + row[4])
    print(f"\n{len(SAMPLES)} sample images checked; {surprises} verdict(s) differ from expected")
    return 1 if surprises else 0


if __name__ == "__main__":
    sys.exit(main())
