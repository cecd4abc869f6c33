"""What a Studio app's start-up log says went wrong, in plain language.

An app writes its start-up to `/aws/sagemaker/studio`, stream
`<domain>/<user profile or space>/<app type>/<app name>`. The lines below are the failures the
Studio custom-image documents name; each signature says what it means and what to do. A line that
looks like an error but matches no signature is still reported, with the lines around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from pydantic import BaseModel

CONTEXT = 2  # lines kept on each side of a match


@dataclass(frozen=True)
class Signature:
    name: str
    pattern: re.Pattern[str]
    cause: str
    fix: str


SIGNATURES = [
    Signature(
        "exec-format-error",
        re.compile(r"exec format error", re.I),
        "The image's binaries are for another CPU architecture (often arm64, built on an Apple laptop).",
        "Build for linux/amd64: `docker buildx build --platform linux/amd64 ...`.",
    ),
    Signature(
        "kernel-name-mismatch",
        re.compile(r"Kernel with name \[?[^\]\s]*\]? does not exist in image", re.I),
        "The AppImageConfig names a kernel that the image's kernelspecs do not have.",
        "Make KernelSpecs[].Name match a directory under share/jupyter/kernels (`jupyter kernelspec list`).",
    ),
    Signature(
        "uid-gid-mismatch",
        re.compile(r"(uid|gid)[^\n]*(mismatch|does not match|not match)|DefaultUid|DefaultGid", re.I),
        "The user the image runs as is not the UID/GID the AppImageConfig's FileSystemConfig declares.",
        "Set DefaultUid/DefaultGid to the image's user (`id -u`, `id -g` in the image), or change USER.",
    ),
    Signature(
        "conda-no-kernels",
        re.compile(r"\[nb_conda_kernels\].*\b0 kernels? found", re.I),
        "nb_conda_kernels found no conda environment with ipykernel installed.",
        "Install ipykernel in the environment the kernel should use, or register a kernelspec.",
    ),
    Signature(
        "python-traceback",
        re.compile(r"^Traceback \(most recent call last\)|^\w*(Error|Exception): ", re.M),
        "Python raised an exception while the app or its kernel started (often a failed import).",
        "Run the kernel's command in the image (`docker run ... python -m ipykernel_launcher`) and fix "
        "the import or package it names.",
    ),
    Signature(
        "permission-denied",
        re.compile(r"permission denied", re.I),
        "The app's user cannot read or execute a file it needs (ownership or mode in the image).",
        "Give the image's user access (`chown`/`chmod` in the Dockerfile); keep home under the user's UID.",
    ),
    Signature(
        "interpreter-missing",
        re.compile(r"No such file or directory", re.I),
        "A program the kernel runs, often the interpreter in kernel.json's argv, is not in the image.",
        "Point kernel.json's argv[0] at an interpreter that exists, or install it.",
    ),
]
UNKNOWN = "unknown-error"
LOOKS_LIKE_AN_ERROR = re.compile(
    r"\b(error|fatal|failed|failure|exception|killed|segmentation fault)\b", re.I
)


class SignatureMatch(BaseModel):
    signature: str  # a Signature's name, or UNKNOWN
    cause: str
    fix: str
    line: str
    context: list[str]  # the line and CONTEXT lines around it


def match_lines(lines: list[str]) -> list[SignatureMatch]:
    """Each known signature once (its first line), then unknown error-looking lines, in log order."""
    found: list[SignatureMatch] = []
    seen: set[str] = set()
    for index, line in enumerate(lines):
        context = lines[max(index - CONTEXT, 0) : index + CONTEXT + 1]
        signature = next((s for s in SIGNATURES if s.pattern.search(line)), None)
        if signature is not None:
            if signature.name not in seen:
                seen.add(signature.name)
                found.append(
                    SignatureMatch(
                        signature=signature.name,
                        cause=signature.cause,
                        fix=signature.fix,
                        line=line,
                        context=context,
                    )
                )
        elif LOOKS_LIKE_AN_ERROR.search(line) and UNKNOWN not in seen:
            seen.add(UNKNOWN)
            found.append(
                SignatureMatch(
                    signature=UNKNOWN,
                    cause="The app logged an error no known signature explains.",
                    fix="Read the quoted lines; the full stream is in CloudWatch Logs.",
                    line=line,
                    context=context,
                )
            )
    return found


def known_failures(matches: list[SignatureMatch]) -> list[SignatureMatch]:
    """The matches that name a known start-up failure (a start that logged one has failed)."""
    return [match for match in matches if match.signature != UNKNOWN]
