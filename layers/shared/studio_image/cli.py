"""`studio-image`: check an image against a Studio profile before (or after) it is pushed.

A command's module is imported only when that command runs (`studio_image/commands/`), so
`--version` and `--help` cost no more than argparse, and the sandbox, which needs the `[sandbox]`
extra, is one line of advice where that extra is not installed.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from importlib import import_module

from . import __version__
from .errors import StudioImageError

EXIT_UNREADABLE = 2  # also argparse's exit code for bad arguments


@dataclass(frozen=True)
class Command:
    module: str  # has configure(parser), which sets `run`
    help: str
    extra: str | None = None  # the pip extra that installs what the module imports


COMMANDS = {
    "check": Command("studio_image.commands.check", "check an image against a profile"),
    "kernelspec": Command(
        "studio_image.commands.kernelspec",
        "write the kernelspec directory for a Gateway Provisioners kernel image",
    ),
    "sandbox": Command("studio_image_sandbox.cli", "run the pipeline locally", extra="sandbox"),
}


def _parser(chosen: str | None) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="studio-image", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)
    for name, command in COMMANDS.items():
        subparser = commands.add_parser(name, help=command.help)
        if name == chosen:
            import_module(command.module).configure(subparser)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    chosen = next((arg for arg in argv if not arg.startswith("-")), None)  # no top-level option takes a value
    command = COMMANDS.get(chosen or "")
    try:
        args = _parser(chosen).parse_args(argv)
        return int(args.run(args))
    except ModuleNotFoundError as error:
        if command is None or command.extra is None:
            raise
        sys.stderr.write(
            f"studio-image {chosen}: needs {error.name}, from the [{command.extra}] extra: "
            f"pip install 'studio-image-pipeline[{command.extra}]'\n"
        )
        return EXIT_UNREADABLE
    except StudioImageError as error:
        sys.stderr.write(f"studio-image: {type(error).__name__}: {error}\n")
        return EXIT_UNREADABLE
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
