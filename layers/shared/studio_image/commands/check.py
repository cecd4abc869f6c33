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
from ..limits import ScanLimits
from ..oci import Descriptor, Platform
from ..policy import Policy, load_policy
from ..report import RENDERERS
from ..rules.judging import Verdict, build_report, pick_profile
from ..sources import SourceOptions, open_source
from ..units import human_bytes
from ..vulnerabilities import check_source, with_gate

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
        help="default: the policy's profile, else picked from what the image holds (a Gateway "
        "Provisioners bootstrap, RStudio Workbench, a JupyterLab, then a Code Editor server on the "
        "PATH, else kernel-gateway) and named on stderr",
    )
    parser.add_argument("--platform", default="linux/amd64", help="platform to pick from an index")
    parser.add_argument("--format", choices=sorted(RENDERERS), default="text")
    parser.add_argument("--policy", type=Path, help="policy file (YAML or JSON)")
    parser.add_argument("--sbom", type=Path, metavar="FILE", help="write the image's SBOM (CycloneDX JSON)")
    parser.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a scan limit for this run (README: Reliability lists them; also the policy's "
        "`limits`); with limits other than the defaults no layer scan is cached",
    )
    parser.add_argument("--no-cache", action="store_true", help="read every layer, cache nothing")
    parser.add_argument("--cache-dir", type=Path, default=None, help="layer scan cache directory")
    parser.add_argument("--creds", metavar="USER:PASSWORD", help="registry credentials")
    parser.add_argument(
        "--allow-http", action="store_true", help="allow plain HTTP to registries that are not on loopback"
    )
    parser.set_defaults(run=run)


def _limits(policy: Policy, flags: list[str]) -> ScanLimits:
    overrides: dict[str, int] = {}
    for flag in flags:
        name, equals, value = flag.partition("=")
        if not equals or not value.strip().isdigit():
            raise StudioImageError(f"--limit {flag!r}: expected NAME=WHOLE_NUMBER")
        overrides[name.strip()] = int(value)
    try:
        return policy.scan_limits(overrides)
    except ValueError as error:
        raise StudioImageError(f"--limit: {error}") from error


def run(args: argparse.Namespace) -> int:
    policy = load_policy(args.policy) if args.policy else Policy()
    profile = Profile(args.profile) if args.profile else policy.profile
    try:
        platform = Platform.parse(args.platform)
    except ValueError as error:
        raise StudioImageError(str(error)) from error
    limits = _limits(policy, args.limit)
    username, _, password = (args.creds or "").partition(":")
    options = SourceOptions(
        allow_http=args.allow_http, username=username or None, password=password or None, limits=limits
    )
    # A cached scan was made under the default limits: what it kept may differ under others.
    cache: LayerCache = (
        NullCache()
        if args.no_cache or limits != ScanLimits()
        else DirectoryCache(args.cache_dir or default_cache_dir())
    )
    progress = TerminalProgress(sys.stderr) if sys.stderr.isatty() else None
    try:
        with open_source(args.image, options) as source:
            inventory = inspect_image(
                source, platform=platform, cache=cache, limits=limits, progress=progress
            )
            gated = policy.vulnerabilities and check_source(
                source, inventory.manifest_digest, policy.vulnerabilities
            )
    finally:
        if progress:
            progress.finish()
    if profile is None:
        profile, why = pick_profile(inventory)
        sys.stderr.write(f"studio-image: checking as {profile}: {why} (--profile chooses another)\n")
    report = build_report(inventory, profile, policy)
    if gated:
        report = with_gate(report, gated)
    if args.sbom:
        from ..sbom import build_sbom, write_sbom  # CycloneDX is loaded only when asked for

        write_sbom(build_sbom(inventory), args.sbom)
    sys.stdout.write(RENDERERS[args.format](report) + "\n")
    return EXIT_PASS if report.verdict == Verdict.PASS else EXIT_FAIL
