"""Print the README's fault table from what tests/e2e/test_reliability.py recorded.

    STUDIO_IMAGE_RELIABILITY_OUT=FILE pytest tests/e2e/test_reliability.py
    python scripts/reliability_table.py FILE

One row per AWS call: the faults tried on it and how each run ended.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path


def table(lines: list[str]) -> str:
    rows: dict[tuple[str, str], list[str]] = defaultdict(list)
    for line in lines:
        case = json.loads(line)
        rows[(case["service"], case["action"])].append(f"{case['fault']}: {case['outcome']}")
    out = ["| Call | Faults tried and outcome |", "|---|---|"]
    for (service, action), outcomes in sorted(rows.items()):
        out.append(f"| {service} {action} | {'<br>'.join(outcomes)} |")
    cases = sum(len(o) for o in rows.values())
    out.append("")
    out.append(f"{cases} faults on {len(rows)} calls.")
    return "\n".join(out)


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit("usage: reliability_table.py FILE (written by STUDIO_IMAGE_RELIABILITY_OUT=FILE pytest ...)")
    print(table(Path(sys.argv[1]).read_text().splitlines()))


if __name__ == "__main__":
    main()
