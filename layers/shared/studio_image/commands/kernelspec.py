"""`studio-image kernelspec`: the kernel.json a Gateway Provisioners host needs to run a kernel image."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pydantic import ValidationError

from ..errors import KernelSpecInvalid, validation_problems
from ..kernelspec import KERNELS_DIR, PROVISIONERS, ProvisionerKernelSpec, write_kernelspec


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--provisioner", choices=sorted(PROVISIONERS), required=True)
    parser.add_argument("--image-name", required=True, help="the kernel image, e.g. acme/data-sci-py:2.0")
    parser.add_argument("--kernel-name", required=True, help="the kernelspec directory name")
    parser.add_argument("--display-name", required=True)
    parser.add_argument("--language", choices=["python"], default="python")
    parser.add_argument("--launch-timeout", type=int, default=30, help="seconds to wait for the kernel")
    parser.add_argument("--output", type=Path, help="directory to write (default: ./KERNEL_NAME)")
    parser.add_argument(
        "--kernels-dir", default=KERNELS_DIR, help="where the host keeps kernelspecs (default: %(default)s)"
    )
    parser.add_argument("--replace", action="store_true", help="overwrite an existing kernel.json")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
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
    sys.stdout.write(
        f"wrote {path}\ninstall it as {install_dir}, with Gateway Provisioners' {launchers} "
        f"copied to {install_dir}/scripts\n"
    )
    return 0
