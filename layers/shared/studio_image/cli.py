"""`studio-image`: check an image against a Studio profile before (or after) it is pushed.

Exit codes of `check`: 0 the image passes, 1 it has error findings, 2 it could not be read.
`kernelspec` writes the kernel.json a Gateway Provisioners host needs to run a kernel image.
Other installed packages add commands through the `studio_image.commands` entry point group (the
development install adds `sandbox`): each entry is a function given the subcommand parsers, whose
parsers set `run` to a function of the parsed arguments that returns the exit code.
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable
from importlib.metadata import entry_points
from pathlib import Path
from typing import TextIO

from pydantic import ValidationError

from . import __version__
from .cache import DirectoryCache, LayerCache, NullCache, default_cache_dir
from .engine import inspect_image
from .errors import KernelSpecInvalid, StudioImageError, validation_problems
from .findings import Profile
from .kernelspec import KERNELS_DIR, PROVISIONERS, ProvisionerKernelSpec, write_kernelspec
from .oci import Descriptor, Platform
from .policy import Policy, load_policy
from .report import RENDERERS, Verdict, build_report
from .rules.checks import human_bytes
from .sources import SourceOptions, open_source
from .vulnerabilities import check_source, with_gate

EXIT_PASS, EXIT_FAIL, EXIT_UNREADABLE = 0, 1, 2


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


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio-image", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    check = commands.add_parser("check", help="check an image against a profile")
    check.add_argument(
        "image",
        metavar="IMAGE_REF",
        help="docker-archive:PATH, oci:DIR[:TAG], oci-archive:PATH[:TAG], "
        "docker://HOST/REPO[:TAG|@DIGEST] or ecr://REPO[:TAG|@DIGEST]",
    )
    check.add_argument(
        "--profile",
        choices=[p.value for p in Profile],
        help="default: the policy's profile, else kernel-gateway",
    )
    check.add_argument("--platform", default="linux/amd64", help="platform to pick from an index")
    check.add_argument("--format", choices=sorted(RENDERERS), default="text")
    check.add_argument("--policy", type=Path, help="policy file (YAML or JSON)")
    check.add_argument("--sbom", type=Path, metavar="FILE", help="write the image's SBOM (CycloneDX JSON)")
    check.add_argument("--no-cache", action="store_true", help="read every layer, cache nothing")
    check.add_argument("--cache-dir", type=Path, default=None, help="layer scan cache directory")
    check.add_argument("--creds", metavar="USER:PASSWORD", help="registry credentials")
    check.add_argument(
        "--allow-http", action="store_true", help="allow plain HTTP to registries that are not on loopback"
    )

    spec = commands.add_parser(
        "kernelspec", help="write the kernelspec directory for a Gateway Provisioners kernel image"
    )
    spec.add_argument("--provisioner", choices=sorted(PROVISIONERS), required=True)
    spec.add_argument("--image-name", required=True, help="the kernel image, e.g. acme/data-sci-py:2.0")
    spec.add_argument("--kernel-name", required=True, help="the kernelspec directory name")
    spec.add_argument("--display-name", required=True)
    spec.add_argument("--language", choices=["python"], default="python")
    spec.add_argument("--launch-timeout", type=int, default=30, help="seconds to wait for the kernel")
    spec.add_argument("--output", type=Path, help="directory to write (default: ./KERNEL_NAME)")
    spec.add_argument(
        "--kernels-dir", default=KERNELS_DIR, help="where the host keeps kernelspecs (default: %(default)s)"
    )
    spec.add_argument("--replace", action="store_true", help="overwrite an existing kernel.json")
    for plugin in entry_points(group="studio_image.commands"):
        plugin.load()(commands)
    return parser


def kernelspec(args: argparse.Namespace, out: TextIO) -> int:
    try:
        spec = ProvisionerKernelSpec(
            provisioner=args.provisioner,
            image_name=args.image_name,
            kernel_name=args.kernel_name,
            display_name=args.display_name,
            language=args.language,
            launch_timeout=args.launch_timeout,
        )
    except ValidationError as error:
        raise KernelSpecInvalid(validation_problems(error)) from error
    path = write_kernelspec(spec, args.output or Path(spec.kernel_name), args.kernels_dir, args.replace)
    install_dir = spec.install_dir(args.kernels_dir)
    launchers = f"kernel-launchers/{args.provisioner}/scripts"
    out.write(
        f"wrote {path}\ninstall it as {install_dir}, with Gateway Provisioners' {launchers} "
        f"copied to {install_dir}/scripts\n"
    )
    return 0


def check(args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
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
    progress = TerminalProgress(err) if err.isatty() else None
    try:
        with open_source(args.image, options) as source:
            inventory = inspect_image(source, platform=platform, cache=cache, progress=progress)
            gated = policy.vulnerabilities and check_source(
                source, inventory.manifest_digest, policy.vulnerabilities
            )
    finally:
        if progress:
            progress.finish()
    report = build_report(inventory, profile, policy)
    if gated:
        report = with_gate(report, gated)
    if args.sbom:
        from .sbom import build_sbom, write_sbom  # CycloneDX is loaded only when asked for

        write_sbom(build_sbom(inventory), args.sbom)
    out.write(RENDERERS[args.format](report) + "\n")
    return EXIT_PASS if report.verdict == Verdict.PASS else EXIT_FAIL


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        run: Callable[[argparse.Namespace], int] | None = getattr(args, "run", None)
        if run is not None:
            return run(args)
        if args.command == "kernelspec":
            return kernelspec(args, sys.stdout)
        return check(args, sys.stdout, sys.stderr)
    except StudioImageError as error:
        sys.stderr.write(f"studio-image: {type(error).__name__}: {error}\n")
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
