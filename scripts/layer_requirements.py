"""Write layers/shared/requirements.txt, the SAM layer's dependencies, from pyproject.toml.

The layer installs the package's runtime dependencies and its `layer` extra, pinned to the versions
installed in this environment (`make dev` installs with the file as a constraint, so the tests run
on the pinned versions). boto3 only bounds botocore: the pair is pinned together.

    python scripts/layer_requirements.py          # write the file
    python scripts/layer_requirements.py --check  # exit 1 if the file is not what would be written
"""

from __future__ import annotations

import sys
import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent
TARGET = ROOT / "layers" / "shared" / "requirements.txt"
HEADER = (
    "# The SAM layer's dependencies, written by `make requirements` from pyproject.toml ([project]\n"
    "# dependencies and the `layer` extra) with the versions the tests ran on. Do not edit by hand.\n"
)


def layer_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"] + project["optional-dependencies"]["layer"]]


def pinned() -> str:
    lines = []
    for requirement in layer_requirements():
        installed = version(requirement.name)
        if installed not in requirement.specifier:
            raise SystemExit(f"{requirement.name} {installed} is installed, pyproject asks {requirement}")
        extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
        lines.append(f"{requirement.name}{extras}=={installed}")
        if requirement.name == "boto3":
            lines.append(f"botocore=={version('botocore')}")
    return HEADER + "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    text = pinned()
    if "--check" in argv:
        if TARGET.read_text() != text:
            sys.stderr.write(f"{TARGET.relative_to(ROOT)} is stale: run `make requirements`\n")
            return 1
        return 0
    TARGET.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
