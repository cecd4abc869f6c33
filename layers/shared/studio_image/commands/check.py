"""`studio-image check`: read an image and judge it against a Studio profile.

Exit codes: 0 the image passes, 1 it has error findings, 2 it could not be read.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from ..cache import DirectoryCache, LayerCache, NullCache, default_cache_dir
from ..engine import inspect_image
from ..errors import StudioImageError
from ..findings import Profile
from ..oci import Descriptor, Platform
from ..policy import Policy, load_policy
from ..report import RENDERERS
from ..rules.judging import Verdict, build_report
from ..sources import SourceOptions, open_source
from ..units import human_bytes

EXIT_PASS, EXIT_FAIL = 0, 1


class TerminalProgress:
    """One status line on a terminal, redrawn at most ten times a second."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._lock = threading.Lock()
        self._total = 0
        self._size = 0
        self._read = 0
        self._done = 0
        self._cached = 0
        self._drawn = 0.0

    def start(self, layers: list[Descriptor]) -> None:
        self._total = len(layers)
        self._size = sum(d.size for d in layers)
        self._draw(force=True)

    def advance(self, index: int, nbytes: int) -> None:
        with self._lock:
            self._read += nbytes
        self._draw()

    def done(self, index: int, cached: bool) -> None:
        with self._lock:
            self._done += 1
            self._cached += cached
        self._draw(force=True)

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        with self._lock:
            if not force and now - self._drawn < 0.1:
                return
            self._drawn = now
            cached = f", {self._cached} cached" if self._cached else ""
            self._out.write(
                f"\r\033[Kreading layers: {self._done}/{self._total} done{cached}, "
                f"{human_bytes(self._read)} of {human_bytes(self._size)}"
            )
            self._out.flush()

    def finish(self) -> None:
        self._out.write("\r\033[K")
        self._out.flush()


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "image",
        metavar="IMAGE_REF",
        help="docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH[:TAG], "
        "docker://HOST/REPO[:TAG|@DIGEST] or ecr://REPO[:TAG|@DIGEST]",
    )
    parser.add_argument(
        "--profile",
        choices=[p.value for p in Profile],
        help="default: the policy's profile, else kernel-gateway",
    )
    parser.add_argument("--platform", default="linux/amd64", help="platform to pick from an index")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument("--policy", type=Path, help="policy file (YAML or JSON)")
    parser.add_argument("--no-cache", action="store_true", help="read every layer, cache nothing")
    parser.add_argument("--cache-dir", type=Path, default=None, help="layer scan cache directory")
    parser.add_argument("--creds", metavar="USER:PASSWORD", help="registry credentials")
    parser.add_argument(
        "--allow-http", action="store_true", help="allow plain HTTP to registries that are not on loopback"
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy) if args.policy else Policy()
    profile = Profile(args.profile) if args.profile else (policy.profile or Profile.KERNEL_GATEWAY)
    try:
        platform = Platform.parse(args.platform)
    except ValueError as error:
        raise StudioImageError(str(error)) from error
    username, _, password = (args.creds or "").partition(":")
    options = SourceOptions(allow_http=args.allow_http, username=username or None, password=password or None)
    cache: LayerCache = (
        NullCache() if args.no_cache else DirectoryCache(args.cache_dir or default_cache_dir())
    )
    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        with open_source(args.image, options) as source:
            inventory = inspect_image(source, platform=platform, cache=cache, progress=progress)
    finally:
        if progress:
            progress.finish()
    report = build_report(inventory, profile, policy)
    sys.stdout.write(RENDERERS[args.format](report) + "\n")
    return EXIT_PASS if report.verdict == Verdict.PASS else EXIT_FAIL
